import * as fs from "fs";
import * as path from "path";
import { SavedResources } from "../../../components/openstack/survival";

/**
 * A GRENADE_DIR made for one survival step, so that a grenade plugin's resources.sh runs unchanged:
 * it sources `$GRENADE_DIR/grenaderc` and `$GRENADE_DIR/functions` and keeps its memory with
 * `resource_save project key value` / `resource_get project key`.
 *
 * The store is `$SAVE_DIR/resources/<project>/<key>` (one file per value). The step restores it from its
 * input before calling the script and reports it back afterwards: between phases the values live in
 * the Pulumi state (the step outputs), never on this machine.
 */

export const GRENADERC = `# Generated for one survival step of the upgrade runbook (grenade's grenaderc, the parts
# resource scripts rely on). GRENADE_DIR, TOP_DIR, BASE_RELEASE and TARGET_RELEASE come from the caller.
GRENADE_DIR=\${GRENADE_DIR:?GRENADE_DIR is not set}
TOP_DIR=\${TOP_DIR:?TOP_DIR is not set}
BASE_DEVSTACK_DIR=\${BASE_DEVSTACK_DIR:-$TOP_DIR}
TARGET_DEVSTACK_DIR=\${TARGET_DEVSTACK_DIR:-$TOP_DIR}
SAVE_DIR=\${SAVE_DIR:-$GRENADE_DIR/save}
export GRENADE_DIR TOP_DIR BASE_DEVSTACK_DIR TARGET_DEVSTACK_DIR SAVE_DIR BASE_RELEASE TARGET_RELEASE
`;

export const FUNCTIONS = `# Generated for one survival step of the upgrade runbook: grenade's supporting methods.

function die {
    local exitcode=$?
    echo "[ERROR] \${BASH_SOURCE[1]:-resources.sh}:\${BASH_LINENO[0]:-0} $*" >&2
    [ "$exitcode" -eq 0 ] && exitcode=1
    exit $exitcode
}

function echo_summary {
    echo "$@" >&2
}

function is_service_enabled {
    local s
    for s in "$@"; do
        [[ ,\${ENABLED_SERVICES:-}, =~ ,\${s}, ]] && return 0
    done
    return 1
}

function _resource_file {
    local project=$1 key=$2
    if [[ ! "$project" =~ ^[A-Za-z0-9_.-]+$ || ! "$key" =~ ^[A-Za-z0-9_.-]+$ ]]; then
        echo "resource_save/resource_get: bad project or key '$project' '$key'" >&2
        return 1
    fi
    echo "$SAVE_DIR/resources/$project/$key"
}

# resource_save project key value: remember a value for a later phase.
function resource_save {
    local file
    file=$(_resource_file "$1" "$2") || return 1
    mkdir -p "$(dirname "$file")"
    printf '%s' "$3" > "$file"
}

# resource_get project key: print the value saved by an earlier phase (nothing if none).
function resource_get {
    local file
    file=$(_resource_file "$1" "$2") || return 1
    if [ -f "$file" ]; then cat "$file"; echo; fi
}
`;

/** Write grenaderc, functions and the restored store into `dir`. */
export function writeGrenadeDir(dir: string, saved: SavedResources): void {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "grenaderc"), GRENADERC);
    fs.writeFileSync(path.join(dir, "functions"), FUNCTIONS);
    writeStore(dir, saved);
}

const NAME = /^[A-Za-z0-9_.-]+$/;

export function storeDir(grenadeDir: string): string {
    return path.join(grenadeDir, "save", "resources");
}

export function writeStore(grenadeDir: string, saved: SavedResources): void {
    const base = storeDir(grenadeDir);
    fs.mkdirSync(base, { recursive: true });
    for (const [project, values] of Object.entries(saved ?? {})) {
        if (!NAME.test(project)) throw new Error(`saved resources: bad project name "${project}"`);
        fs.mkdirSync(path.join(base, project), { recursive: true });
        for (const [key, value] of Object.entries(values ?? {})) {
            if (!NAME.test(key)) throw new Error(`saved resources: bad key "${key}" of project ${project}`);
            fs.writeFileSync(path.join(base, project, key), String(value));
        }
    }
}

export function readStore(grenadeDir: string): SavedResources {
    const base = storeDir(grenadeDir);
    const out: SavedResources = {};
    if (!fs.existsSync(base)) return out;
    for (const project of fs.readdirSync(base).sort()) {
        const dir = path.join(base, project);
        if (!fs.statSync(dir).isDirectory()) continue;
        out[project] = {};
        for (const key of fs.readdirSync(dir).sort()) out[project][key] = fs.readFileSync(path.join(dir, key), "utf8");
    }
    return out;
}
