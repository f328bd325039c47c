export * from "./operator-gate";
export * from "./settings";
