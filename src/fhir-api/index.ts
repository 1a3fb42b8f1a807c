/** The FHIR REST layer: handlers, route table, router (no Express). */
export * from './types';
export { createRouter, transactionCommitter, type Router } from './router';
export { fhirRouter, standardRoutes } from './routes';
export { validateBody, VALIDATE_OPERATION } from './validate';
export { validateForWrite, writeResponse, versionHeaders, parseSearch, preferReturn, strictHandling } from './http-rules';
