import * as pulumi from "@pulumi/pulumi";
import { RunbookConfig } from "../../components/config";
import { recordedSteps, resetRegistry, StepRecord } from "../../components/core";

/**
 * Evaluate the program for one configuration under Pulumi's mocks, in preview mode:
 * resources are registered exactly as `pulumi preview` would register them, and nothing runs.
 */
export async function evaluateSteps(config: RunbookConfig, stack: string): Promise<StepRecord[]> {
    resetRegistry();
    await pulumi.runtime.setMocks({
        // Returning no state leaves every output unknown, as in a real preview of new resources.
        newResource: (args: pulumi.runtime.MockResourceArgs) => ({ id: `${args.name}-id`, state: {} }),
        call: (args: pulumi.runtime.MockCallArgs) => args.inputs,
    }, "upgrade", stack, true);
    // Imported after the mocks are in place, as the SDK requires.
    const { buildRunbook } = await import("../../components/program");
    buildRunbook(config);
    // Let the mocked registrations finish, so no work is left pending at exit.
    await (pulumi.runtime as unknown as { disconnect(): Promise<void> }).disconnect();
    return orderSteps(recordedSteps());
}

/** A valid execution order: Kahn's algorithm, ties broken by registration order. */
export function orderSteps(steps: StepRecord[]): StepRecord[] {
    const index = new Map(steps.map((s, i) => [s.id, i]));
    const indegree = new Map(steps.map(s => [s.id, 0]));
    const next = new Map<string, string[]>(steps.map(s => [s.id, []]));
    for (const s of steps) {
        for (const d of s.dependsOn) {
            if (!index.has(d)) throw new Error(`step "${s.id}" depends on unknown step "${d}"`);
            indegree.set(s.id, indegree.get(s.id)! + 1);
            next.get(d)!.push(s.id);
        }
    }
    const ready = steps.filter(s => indegree.get(s.id) === 0).map(s => s.id);
    const out: StepRecord[] = [];
    while (ready.length > 0) {
        ready.sort((a, b) => index.get(a)! - index.get(b)!);
        const id = ready.shift()!;
        out.push(steps[index.get(id)!]);
        for (const n of next.get(id)!) {
            indegree.set(n, indegree.get(n)! - 1);
            if (indegree.get(n) === 0) ready.push(n);
        }
    }
    if (out.length !== steps.length) throw new Error("the steps depend on each other in a cycle");
    return out;
}
