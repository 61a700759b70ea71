/** Base class of every error this library throws. */
export class ResponseCacheError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Thrown at startup (or at decoration time) when options are invalid; says how to fix them. */
export class ResponseCacheConfigError extends ResponseCacheError {
  constructor(option: string, problem: string, fix: string) {
    super(`ResponseCache: invalid option "${option}": ${problem}. ${fix}`);
  }
}
