export * from "./crd.js";
export * from "./duration.js";
export * from "./parse.js";
export * from "./path-template.js";
export type * from "./policy.js";
export * from "./problems.js";
export * from "./quantity.js";
export * from "./schema.js";
