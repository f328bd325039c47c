export * from "./orchestrator";
export * as steps from "./steps";
export * from "./approval";
export * from "./procedures";
