// A worker module without a default export: initialize must refuse it with a typed error.
export const notAFunction = 42;
