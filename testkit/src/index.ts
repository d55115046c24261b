export * from "./ports.js";
export * from "./processes.js";
export * from "./redis.js";
export * from "./redis-sentinel.js";
export * from "./wait.js";
