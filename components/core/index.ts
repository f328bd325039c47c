export * from "./registry";
export * from "./sequence";
export * from "./shell";
export * from "./ssh";
export * from "./step";
export * from "./shell-quote";
