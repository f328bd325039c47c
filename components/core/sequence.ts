import * as pulumi from "@pulumi/pulumi";
import { Step, StepArgs } from "./step";

/** A step as a procedure describes it, before it is placed in a run. */
export type StepDef = Omit<StepArgs, "runKey" | "procedure">;

/**
 * Places steps one after the other under a procedure component: each new step waits for the
 * previous one unless told what to wait for. No step runs once an earlier one has failed.
 */
export class Sequence {
    private tail: Step[];
    readonly steps: Step[] = [];

    constructor(
        private readonly parent: pulumi.Resource,
        private readonly runKey: pulumi.Input<string>,
        private readonly procedure: string,
        start: Step[] = [],
    ) {
        this.tail = start;
    }

    /** Add a step after the current tail (or after `after`), and make it the new tail. */
    add(name: string, def: StepDef, after?: Step[]): Step {
        const step = new Step(name, { ...def, runKey: this.runKey, procedure: this.procedure },
            { parent: this.parent, after: after ?? this.tail });
        this.steps.push(step);
        this.tail = [step];
        return step;
    }

    /** Add steps that only wait for the current tail, and may run side by side; they become the tail. */
    fork(defs: [string, StepDef][]): Step[] {
        const start = this.tail;
        const steps = defs.map(([name, def]) => this.add(name, def, start));
        this.tail = steps;
        return steps;
    }

    get last(): Step[] {
        return [...this.tail];
    }
}
