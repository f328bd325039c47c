export * from "./procedure";
export * from "./probes";
export * from "./argocd";
export * as lsstSteps from "./steps";
