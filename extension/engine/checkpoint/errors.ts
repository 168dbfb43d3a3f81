// Every problem with a checkpoint folder surfaces as this one error type, whose message names the file,
// what is wrong and what is supported, so callers can show it to the user as is.
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}
