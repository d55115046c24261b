export * from "./ports.js";
export * from "./processes.js";
export * from "./redis.js";
export * from "./wait.js";
