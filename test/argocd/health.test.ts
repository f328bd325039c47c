import * as assert from "assert";
import { parse } from "yaml";
import { applicationHealth, HEALTH_ORDER, isWorse, KubeObject, resourceHealth } from "../../lab/argocd/health";

/** Object docs as the API server returns them (only the fields the rules read). */
const doc = (yaml: string): KubeObject => parse(yaml) as KubeObject;

describe("Argo CD health rules of the lab controller", () => {
    // gitops-engine pkg/health/health.go: healthOrder and IsWorse.
    it("orders health from Healthy to Unknown and calls a later one worse", () => {
        assert.deepStrictEqual([...HEALTH_ORDER], ["Healthy", "Suspended", "Progressing", "Missing", "Degraded", "Unknown"]);
        assert.strictEqual(isWorse("Healthy", "Progressing"), true);
        assert.strictEqual(isWorse("Progressing", "Suspended"), false);
        assert.strictEqual(isWorse("Missing", "Degraded"), true);
        assert.strictEqual(isWorse("Degraded", "Degraded"), false);
    });

    describe("Job (gitops-engine pkg/health/health_job.go)", () => {
        it("a running Job (no Complete, Failed or Suspended condition) is Progressing: a CSC's Job never turns Healthy", () => {
            assert.deepStrictEqual(resourceHealth(doc(`
apiVersion: batch/v1
kind: Job
metadata: {name: mtm1m3, namespace: mtm1m3}
status: {active: 1, startTime: "2026-12-01T10:00:00Z", ready: 1}
`)), { status: "Progressing", message: undefined });
        });
        it("a complete Job is Healthy with the condition's message", () => {
            assert.deepStrictEqual(resourceHealth(doc(`
apiVersion: batch/v1
kind: Job
metadata: {name: once}
status:
  succeeded: 1
  conditions:
  - {type: SuccessCriteriaMet, status: "True"}
  - {type: Complete, status: "True", message: "Reached expected number of succeeded pods"}
`)), { status: "Healthy", message: "Reached expected number of succeeded pods" });
        });
        it("a failed Job is Degraded with the failure's message", () => {
            assert.deepStrictEqual(resourceHealth(doc(`
apiVersion: batch/v1
kind: Job
metadata: {name: once}
status:
  failed: 1
  conditions:
  - {type: FailureTarget, status: "True"}
  - {type: Failed, status: "True", reason: BackoffLimitExceeded, message: "Job has reached the specified backoff limit"}
`)), { status: "Degraded", message: "Job has reached the specified backoff limit" });
        });
        it("a suspended Job is Suspended", () => {
            assert.strictEqual(resourceHealth(doc(`
apiVersion: batch/v1
kind: Job
metadata: {name: held}
spec: {suspend: true}
status:
  conditions:
  - {type: Suspended, status: "True", reason: JobSuspended, message: "Job suspended"}
`))?.status, "Suspended");
        });
    });

    describe("Deployment (gitops-engine pkg/health/health_deployment.go)", () => {
        const deployment = (status: string, spec = "replicas: 2", generation = 1) => doc(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: kafka-producer-mtm1m3, namespace: kafka-producers, generation: ${generation}}
spec: {${spec}}
status: ${status}
`);
        it("is Progressing until the controller has observed its generation", () => {
            assert.deepStrictEqual(resourceHealth(deployment("{}")),
                { status: "Progressing", message: "Waiting for rollout to finish: observed deployment generation less than desired generation" });
        });
        it("is Progressing while fewer replicas are updated than wanted, then while updated ones are not available", () => {
            assert.deepStrictEqual(resourceHealth(deployment("{observedGeneration: 1, replicas: 2, updatedReplicas: 1}")),
                { status: "Progressing", message: "Waiting for rollout to finish: 1 out of 2 new replicas have been updated..." });
            assert.deepStrictEqual(resourceHealth(deployment("{observedGeneration: 1, replicas: 3, updatedReplicas: 2, availableReplicas: 2}")),
                { status: "Progressing", message: "Waiting for rollout to finish: 1 old replicas are pending termination..." });
            assert.deepStrictEqual(resourceHealth(deployment("{observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 1}")),
                { status: "Progressing", message: "Waiting for rollout to finish: 1 of 2 updated replicas are available..." });
        });
        it("is Healthy once every replica is updated and available", () => {
            assert.deepStrictEqual(resourceHealth(deployment("{observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2, readyReplicas: 2}")),
                { status: "Healthy" });
        });
        it("is Degraded past its progress deadline, and Suspended when paused", () => {
            assert.deepStrictEqual(resourceHealth(deployment(`
  observedGeneration: 1
  replicas: 2
  updatedReplicas: 1
  conditions: [{type: Progressing, status: "False", reason: ProgressDeadlineExceeded}]`)),
            { status: "Degraded", message: `Deployment "kafka-producer-mtm1m3" exceeded its progress deadline` });
            assert.deepStrictEqual(resourceHealth(deployment("{}", "replicas: 2, paused: true")), { status: "Suspended", message: "Deployment is paused" });
        });
    });

    describe("DaemonSet (gitops-engine pkg/health/health_daemonset.go)", () => {
        const daemonSet = (status: string, strategy = "RollingUpdate") => doc(`
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ospl-daemon, namespace: ospl-daemon, generation: 1}
spec: {updateStrategy: {type: ${strategy}}}
status: ${status}
`);
        it("is Progressing until observed, until every pod is updated, then until every pod is available", () => {
            assert.strictEqual(resourceHealth(daemonSet("{}"))?.status, "Progressing");
            assert.deepStrictEqual(resourceHealth(daemonSet("{observedGeneration: 1, desiredNumberScheduled: 1, updatedNumberScheduled: 0}")),
                { status: "Progressing", message: `Waiting for daemon set "ospl-daemon" rollout to finish: 0 out of 1 new pods have been updated...` });
            assert.deepStrictEqual(resourceHealth(daemonSet("{observedGeneration: 1, desiredNumberScheduled: 1, updatedNumberScheduled: 1, numberAvailable: 0}")),
                { status: "Progressing", message: `Waiting for daemon set "ospl-daemon" rollout to finish: 0 of 1 updated pods are available...` });
        });
        it("is Healthy when every scheduled pod is updated and available; with OnDelete as soon as it is observed", () => {
            assert.deepStrictEqual(resourceHealth(daemonSet("{observedGeneration: 1, desiredNumberScheduled: 1, updatedNumberScheduled: 1, numberAvailable: 1}")), { status: "Healthy" });
            assert.deepStrictEqual(resourceHealth(daemonSet("{observedGeneration: 1, desiredNumberScheduled: 1, updatedNumberScheduled: 0}", "OnDelete")),
                { status: "Healthy", message: "daemon set 0 out of 1 new pods have been updated" });
        });
    });

    describe("StatefulSet and ReplicaSet (gitops-engine pkg/health/health_statefulset.go, health_replicaset.go)", () => {
        it("a StatefulSet waits for its ready replicas and its rolling update", () => {
            const sts = (status: string) => doc(`
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: love-db, generation: 2}
spec: {replicas: 1, updateStrategy: {type: RollingUpdate}}
status: ${status}
`);
            assert.deepStrictEqual(resourceHealth(sts("{observedGeneration: 1}")), { status: "Progressing", message: "Waiting for statefulset spec update to be observed..." });
            assert.deepStrictEqual(resourceHealth(sts("{observedGeneration: 2, readyReplicas: 0}")), { status: "Progressing", message: "Waiting for 1 pods to be ready..." });
            assert.deepStrictEqual(resourceHealth(sts("{observedGeneration: 2, readyReplicas: 1, updatedReplicas: 0, currentRevision: a, updateRevision: b}")),
                { status: "Progressing", message: "waiting for statefulset rolling update to complete 0 pods at revision b..." });
            assert.deepStrictEqual(resourceHealth(sts("{observedGeneration: 2, readyReplicas: 1, currentReplicas: 1, currentRevision: b, updateRevision: b}")),
                { status: "Healthy", message: "statefulset rolling update complete 1 pods at revision b..." });
        });
        it("a ReplicaSet with a ReplicaFailure condition is Degraded", () => {
            assert.deepStrictEqual(resourceHealth(doc(`
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs, generation: 1}
spec: {replicas: 1}
status:
  observedGeneration: 1
  conditions: [{type: ReplicaFailure, status: "True", message: "pods \\"rs-x\\" is forbidden: exceeded quota"}]
`)), { status: "Degraded", message: `pods "rs-x" is forbidden: exceeded quota` });
        });
    });

    describe("Pod, PersistentVolumeClaim, Service (gitops-engine pkg/health/health_pod.go, health_pvc.go, health_service.go)", () => {
        it("a running ready pod is Healthy; a crash-looping one Degraded; a running pod of a Job Progressing", () => {
            assert.strictEqual(resourceHealth(doc(`
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {restartPolicy: Always}
status: {phase: Running, conditions: [{type: Ready, status: "True"}]}
`))?.status, "Healthy");
            assert.deepStrictEqual(resourceHealth(doc(`
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {restartPolicy: Always}
status:
  phase: Running
  containerStatuses: [{name: c, state: {waiting: {reason: CrashLoopBackOff, message: "back-off 5m0s restarting failed container"}}}]
`)), { status: "Degraded", message: "back-off 5m0s restarting failed container" });
            assert.strictEqual(resourceHealth(doc(`
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {restartPolicy: Never}
status: {phase: Running, conditions: [{type: Ready, status: "True"}]}
`))?.status, "Progressing");
        });
        it("a failed pod is Degraded with its container's exit code", () => {
            assert.deepStrictEqual(resourceHealth(doc(`
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {restartPolicy: Never}
status: {phase: Failed, containerStatuses: [{name: csc, state: {terminated: {exitCode: 1, reason: Error}}}]}
`)), { status: "Degraded", message: `container "csc" failed with exit code 1` });
        });
        it("a claim is Healthy when Bound, Progressing when Pending, Degraded when Lost", () => {
            const pvc = (phase: string) => resourceHealth(doc(`{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: c}, status: {phase: ${phase}}}`))?.status;
            assert.deepStrictEqual([pvc("Bound"), pvc("Pending"), pvc("Lost")], ["Healthy", "Progressing", "Degraded"]);
        });
        it("a Service is Healthy unless it is a LoadBalancer without ingress", () => {
            assert.strictEqual(resourceHealth(doc(`{apiVersion: v1, kind: Service, metadata: {name: s}, spec: {type: ClusterIP}}`))?.status, "Healthy");
            assert.strictEqual(resourceHealth(doc(`{apiVersion: v1, kind: Service, metadata: {name: s}, spec: {type: LoadBalancer}, status: {}}`))?.status, "Progressing");
        });
    });

    // gitops-engine pkg/health/health.go, GetResourceHealth and GetHealthCheckFunc.
    it("an object being deleted is Progressing; a kind without a rule (ConfigMap, Application) has no health", () => {
        assert.deepStrictEqual(resourceHealth(doc(`{apiVersion: batch/v1, kind: Job, metadata: {name: j, deletionTimestamp: "2026-12-01T10:00:00Z"}}`)),
            { status: "Progressing", message: "Pending deletion" });
        assert.strictEqual(resourceHealth(doc(`{apiVersion: v1, kind: ConfigMap, metadata: {name: c}}`)), undefined);
        // argo-cd docs/operator-manual/health.md, "Argocd App": the Application check was removed in 1.8.
        assert.strictEqual(resourceHealth(doc(`{apiVersion: argoproj.io/v1alpha1, kind: Application, metadata: {name: a}, status: {health: {status: Degraded}}}`)), undefined);
    });

    describe("the Application's total (argo-cd v3 controller/health.go, setApplicationHealth)", () => {
        const runningJob = doc(`{apiVersion: batch/v1, kind: Job, metadata: {name: j}, status: {active: 1}}`);
        const healthyDeployment = doc(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: d, generation: 1}
spec: {replicas: 1}
status: {observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1}
`);
        const failedJob = doc(`{apiVersion: batch/v1, kind: Job, metadata: {name: f}, status: {conditions: [{type: Failed, status: "True"}]}}`);
        const configMap = doc(`{apiVersion: v1, kind: ConfigMap, metadata: {name: c}}`);
        const child = (health: string) => doc(`{apiVersion: argoproj.io/v1alpha1, kind: Application, metadata: {name: child, namespace: argocd}, status: {health: {status: ${health}}}}`);

        it("is the worst of its resources' health", () => {
            assert.strictEqual(applicationHealth([{ target: healthyDeployment, live: healthyDeployment }, { target: runningJob, live: runningJob }]), "Progressing");
            assert.strictEqual(applicationHealth([{ target: runningJob, live: runningJob }, { target: failedJob, live: failedJob }]), "Degraded");
            assert.strictEqual(applicationHealth([{ target: healthyDeployment, live: healthyDeployment }, { target: configMap, live: configMap }]), "Healthy");
        });
        it("leaves a missing resource to the sync status, unless none is live: then the Application is Missing", () => {
            assert.strictEqual(applicationHealth([{ target: healthyDeployment, live: healthyDeployment }, { target: runningJob }]), "Healthy");
            assert.strictEqual(applicationHealth([{ target: runningJob }, { target: configMap }]), "Missing");
            assert.strictEqual(applicationHealth([]), "Healthy");
        });
        it("does not count child Applications (app of apps): a parent of a Degraded child is Healthy", () => {
            assert.strictEqual(applicationHealth([{ target: child("Degraded"), live: child("Degraded") }]), "Healthy");
        });
        it("skips hooks, Skip-hooks and objects that ask for no health check", () => {
            const hook = doc(`{apiVersion: batch/v1, kind: Job, metadata: {name: h, annotations: {argocd.argoproj.io/hook: PreSync}}, status: {active: 1}}`);
            const ignored = doc(`{apiVersion: batch/v1, kind: Job, metadata: {name: i, annotations: {argocd.argoproj.io/ignore-healthcheck: "true"}}, status: {active: 1}}`);
            const skip = doc(`{apiVersion: batch/v1, kind: Job, metadata: {name: s, annotations: {argocd.argoproj.io/hook: Skip}}}`);
            assert.strictEqual(applicationHealth([{ target: hook, live: hook }, { target: ignored, live: ignored }, { target: skip }, { target: healthyDeployment, live: healthyDeployment }]), "Healthy");
        });
    });
});
