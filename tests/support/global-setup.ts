/** Runs once before all suites. Suites that need Redis or a browser check for themselves (tests/support/env.ts). */
export default function setup(): void {}
