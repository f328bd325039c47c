export * from "./types";
export * from "./upgrade";
export * from "./install";
export * from "./careful";
export * from "./abort";
export * from "./release";
