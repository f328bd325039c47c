export * from "./steps";
