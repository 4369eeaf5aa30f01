/** The SpaceCryptoError a promise rejects with (the test fails if it resolves, or rejects with anything else). */
import { expect } from "vitest";
import { SpaceCryptoError } from "../../shared/crypto.ts";

export async function cryptoFailure(promise: Promise<unknown>): Promise<SpaceCryptoError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SpaceCryptoError);
  return err as SpaceCryptoError;
}
