/**
 * An Application's manifests from the local folder that stands in for its git repository:
 * `<sourceRoot>/<spec.source.path>/*.yaml` (also .yml and .json; subfolders only with
 * `spec.source.directory.recurse`, as Argo CD's directory source). The revision is a digest of the files,
 * in the place of the commit a real source would be at.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { parseAllDocuments } from "yaml";
import { KubeObject } from "./health";

export interface Source {
    revision: string;
    objects: KubeObject[];
}

export interface AppSpec {
    source?: { path?: string; repoURL?: string; targetRevision?: string; directory?: { recurse?: boolean } };
    destination?: { namespace?: string; server?: string; name?: string };
    syncPolicy?: { syncOptions?: string[] };
}

function manifestFiles(dir: string, recurse: boolean): string[] {
    const out: string[] = [];
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
        if (entry.name.startsWith(".")) continue;
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) { if (recurse) out.push(...manifestFiles(full, recurse)); }
        else if (/\.(ya?ml|json)$/.test(entry.name)) out.push(full);
    }
    return out;
}

/** Reads the app's manifests; throws with a message naming the file when one cannot be read as objects. */
export function loadSource(sourceRoot: string, spec: AppSpec): Source {
    const rel = spec.source?.path ?? "";
    const dir = path.resolve(sourceRoot, rel);
    if (dir !== path.resolve(sourceRoot) && !dir.startsWith(path.resolve(sourceRoot) + path.sep)) throw new Error(`${rel}: app path is outside the repository`);
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`${rel}: app path does not exist`);
    const hash = createHash("sha1");
    const objects: KubeObject[] = [];
    for (const file of manifestFiles(dir, Boolean(spec.source?.directory?.recurse))) {
        const name = path.relative(dir, file);
        const text = fs.readFileSync(file, "utf8");
        hash.update(name).update("\0").update(text).update("\0");
        for (const d of parseAllDocuments(text)) {
            if (d.errors.length) throw new Error(`${path.join(rel, name)}: ${d.errors[0].message}`);
            const obj = d.toJS() as unknown;
            if (obj === null || obj === undefined) continue;
            const o = obj as KubeObject;
            if (typeof obj !== "object" || Array.isArray(obj) || !o.apiVersion || !o.kind || !o.metadata?.name) {
                throw new Error(`${path.join(rel, name)}: an object needs apiVersion, kind and metadata.name`);
            }
            objects.push(o);
        }
    }
    return { revision: hash.digest("hex"), objects };
}
