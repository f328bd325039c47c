/**
 * The Argo CD sync as a Kubernetes patch: the await expression the provider evaluates, the patch it
 * applies, and the verdict on the state its await ended on. The whole path against the real provider,
 * API server and our Argo CD controller is in test/kubernetes/lsst-cluster.test.ts.
 */
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { applicationSyncPatch, syncRunId, syncWaitFor } from "../../components/kubernetes/argocd-sync";
import { syncVerdict } from "../../components/lsst/argocd";

const resolved = <T>(o: pulumi.Input<T>): Promise<T> => new Promise(r => pulumi.output(o).apply(v => { r(v as T); return v; }));

describe("Argo CD sync as a Kubernetes patch", () => {
    it("waits for this run's operation to end: failed at once, or succeeded with what the app needs", () => {
        // pulumi-kubernetes provider/pkg/jsonpath/jsonpath.go: split at a single "=", the path is what lies up to
        // the first "}"; github.com/theory/jsonpath v0.9.0 parses two operands per && or || (a third one is a parse
        // error, "unexpected '&'"), so every pair is parenthesised.
        assert.equal(syncWaitFor("0a1b", "healthy"),
            "jsonpath={$[?(@.operationState.operation.info[0].value=='0a1b' && (@.operationState.phase=='Failed' || " +
            "(@.operationState.phase=='Error' || (@.operationState.phase=='Succeeded' && (@.sync.status=='Synced' && " +
            "@.health.status=='Healthy')))))]}");
        // A CSC app runs a Job that Argo CD reports Progressing while it runs (gitops-engine pkg/health/health_job.go):
        // its sync succeeding and Synced is the end.
        assert.equal(syncWaitFor("0a1b", "synced"),
            "jsonpath={$[?(@.operationState.operation.info[0].value=='0a1b' && (@.operationState.phase=='Failed' || " +
            "(@.operationState.phase=='Error' || (@.operationState.phase=='Succeeded' && @.sync.status=='Synced'))))]}");
        for (const e of [syncWaitFor("ff", "healthy"), syncWaitFor("ff", "synced")]) {
            assert.equal(e.replace(/==/g, "").includes("="), true, "only the prefix's =");
            assert.equal(e.replace(/==/g, "").split("=").length, 2, "one single = (after the prefix)");
            assert.equal(e.indexOf("}"), e.length - 1, "no } before the end");
        }
    });

    it("refuses a run id that could change the expression", () => {
        assert.throws(() => syncWaitFor("x' || @.a=='a", "healthy"), /must be hex/);
        assert.throws(() => syncWaitFor("", "synced"), /must be hex/);
    });

    it("a run id is the same for the same run and differs for another run, stack or step", () => {
        const a = syncRunId(["lsst-tts", "cycle-0034", "deploy-argocd-love"]);
        assert.match(a, /^[0-9a-f]{16}$/);
        assert.equal(syncRunId(["lsst-tts", "cycle-0034", "deploy-argocd-love"]), a);
        assert.notEqual(syncRunId(["lsst-tts", "cycle-0035", "deploy-argocd-love"]), a);
        assert.notEqual(syncRunId(["lsst-summit", "cycle-0034", "deploy-argocd-love"]), a);
        assert.notEqual(syncRunId(["lsst-tts", "cycle-0034", "deploy-argocd-obssys"]), a);
        assert.notEqual(syncRunId(["lsst-tts", "cycle-00", "34deploy-argocd-love"]), a, "parts are separated");
    });

    it("the patch sets the operation Argo CD runs, with the run first in its info, and the await annotations", async () => {
        const p = applicationSyncPatch({ app: "love", namespace: "argocd", run: "00ff", initiatedBy: "upgrade-as-code",
            reason: "lsst-tts cycle-0034 deploy-argocd-love", needs: "healthy", timeoutSeconds: 1800, revision: "cycle.0034", prune: true });
        assert.equal(p.apiVersion, "argoproj.io/v1alpha1");
        assert.equal(p.kind, "Application");
        const meta = await resolved(p.metadata!) as { name: string; namespace: string; annotations: Record<string, string> };
        assert.deepEqual({ name: meta.name, namespace: meta.namespace }, { name: "love", namespace: "argocd" });
        assert.deepEqual(Object.keys(meta.annotations).sort(), ["pulumi.com/patchForce", "pulumi.com/timeoutSeconds", "pulumi.com/waitFor"]);
        assert.equal(await resolved(meta.annotations["pulumi.com/waitFor"]), syncWaitFor("00ff", "healthy"));
        assert.equal(meta.annotations["pulumi.com/timeoutSeconds"], "1800");
        // argo-cd pkg/apis/application/v1alpha1/types.go: Operation{Sync, InitiatedBy, Info []*Info{Name, Value}}
        assert.deepEqual(p.operation, {
            initiatedBy: { username: "upgrade-as-code" },
            info: [{ name: "run", value: "00ff" }, { name: "reason", value: "lsst-tts cycle-0034 deploy-argocd-love" }],
            sync: { syncStrategy: { hook: {} }, revision: "cycle.0034", prune: true },
        });
    });

    describe("the verdict on where the await ended", () => {
        const status = (run: string, phase: string, sync: string, health: string, message?: string) => ({
            operationState: { operation: { info: [{ name: "run", value: run }] }, phase, ...(message ? { message } : {}) },
            sync: { status: sync }, health: { status: health },
        });

        it("a failed sync names the app and Argo CD's message", () => {
            const v = syncVerdict("kafka-producers", status("aa", "Failed", "OutOfSync", "Missing",
                "one or more objects failed to apply, reason: Deployment.apps \"x\" is invalid"), "aa", true);
            assert.equal(v.ok, false);
            assert.equal(!v.ok && v.problem, "kafka-producers: sync Failed: one or more objects failed to apply, reason: " +
                "Deployment.apps \"x\" is invalid (sync=OutOfSync health=Missing)");
        });

        it("a CSC app still Progressing is done once Synced; another app is not", () => {
            assert.equal(syncVerdict("auxtel", status("aa", "Succeeded", "Synced", "Progressing"), "aa", false).ok, true);
            const v = syncVerdict("love", status("aa", "Succeeded", "Synced", "Progressing"), "aa", true);
            assert.equal(!v.ok && v.problem, "love: the sync succeeded but the app is not Synced and Healthy (sync=Synced health=Progressing)");
        });

        it("never takes another run's operation for this one", () => {
            const v = syncVerdict("love", status("bb", "Succeeded", "Synced", "Healthy"), "aa", true);
            assert.equal(!v.ok && v.problem, "love: the state seen is not of this run's sync (operation bb, expected aa)");
            assert.equal(syncVerdict("love", {}, "aa", true).ok, false);
        });
    });
});
