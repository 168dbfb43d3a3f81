// Checks each request against the protocol's schemas before it reaches the engine: unknown methods
// and params of the wrong shape become JSON-RPC errors that name the field, and, when the engine
// serves a root folder, every path the client names must lie inside it.

import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { ErrorCodes, RemoteError } from '../../common/protocol';
import { PATH_KEYWORD, REQUEST_PARAMS_SCHEMAS } from '../../common/protocol-schema';
import type { ServedRoot } from './served-root';

export type RequestCheck = (method: string, params: unknown) => RemoteError | null;

export function requestCheck(root: ServedRoot | null): RequestCheck {
  const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true });
  const checkPath = (_: unknown, data: unknown): boolean => {
    const refusal = root && typeof data === 'string' ? root.refusal(data) : null;
    if (refusal) checkPath.errors = [{ keyword: PATH_KEYWORD, message: refusal, params: {}, instancePath: '', schemaPath: '' }];
    return refusal === null;
  };
  checkPath.errors = [] as Partial<ErrorObject>[];
  ajv.addKeyword({ keyword: PATH_KEYWORD, type: 'string', schemaType: 'boolean', errors: true, validate: checkPath });
  const validators = new Map<string, ValidateFunction>(Object.entries(REQUEST_PARAMS_SCHEMAS).map(([method, schema]) => [method, ajv.compile(schema)]));
  return (method, params) => {
    const validate = validators.get(method);
    if (!validate) return new RemoteError(`unknown method "${method.slice(0, 100)}"`, ErrorCodes.methodNotFound);
    if (validate(params ?? {})) return null;
    return new RemoteError(`${method}: ${describe(validate.errors![0])}`, ErrorCodes.invalidParams);
  };
}

function describe(error: ErrorObject): string {
  if (error.keyword === PATH_KEYWORD) return error.message!;
  const where = error.instancePath ? `params${error.instancePath.replaceAll('/', '.')}` : 'params';
  if (error.keyword === 'additionalProperties') return `${where} has an unknown field "${(error.params as { additionalProperty: string }).additionalProperty}"`;
  if (error.keyword === 'required') return `${where} lacks the field "${(error.params as { missingProperty: string }).missingProperty}"`;
  if (error.keyword === 'enum') return `${where} ${error.message}: ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  return `${where} ${error.message}`;
}
