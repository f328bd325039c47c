export * from "./types";
export * from "./survival";
export * from "./procedure";
export * from "./args";
export * as rsync from "./rsync";
export * as ansible from "./ansible";
export * as steps from "./steps";
