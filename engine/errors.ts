/**
 * The one error class every folder throws. Each folder declares its own string-literal codes;
 * `protocol/errors.ts` maps every code to an HTTP status and git's wording.
 * Invariants:
 * - `code` is stable and machine-readable; `message` is for people and never carries secrets.
 * - `toJSON()` round-trips through DO RPC and WebSockets, so the far side can rebuild the error.
 */
export interface GitErrorInit {
  data?: Readonly<Record<string, unknown>>;
  retryable?: boolean;
  cause?: unknown;
}

export class GitError<C extends string = string> extends Error {
  readonly data: Readonly<Record<string, unknown>>;
  readonly retryable: boolean;
  constructor(
    readonly code: C,
    message: string,
    init: GitErrorInit = {},
  ) {
    super(message, { cause: init.cause });
    this.name = "GitError";
    this.data = init.data ?? {};
    this.retryable = init.retryable ?? false;
  }
  toJSON() {
    return { code: this.code, message: this.message, data: this.data, retryable: this.retryable };
  }
}

export function isGitError(e: unknown): e is GitError {
  return e instanceof GitError;
}
