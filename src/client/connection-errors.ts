// One line a user can act on for an error that stopped a connection: TLS refusals say which
// setting to look at; everything else is Redis's or Node's own message.
const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);

export function describeConnectionError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (UNTRUSTED.has(code))
    return (
      `TLS: the server's certificate is not signed by a trusted CA (${error.message}); ` +
      'give the CA that signed it with --tls-ca or ?tls_ca=<file>'
    );
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return `TLS: the server's certificate does not name this host (${error.message})`;
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID')
    return `TLS: the server's certificate is not valid now (${error.message})`;
  if (/CERTIFICATE_REQUIRED/i.test(code) || /certificate required/i.test(error.message))
    return 'TLS: the server asks for a client certificate; give one with --tls-cert and --tls-key';
  // ioredis's words for "no sentinel named a primary"; the reason is its "Last error".
  const sentinels = /^All sentinels are unreachable[^.]*\.(?: Last error: (.*))?$/s.exec(error.message);
  if (sentinels)
    return (
      `no sentinel named a primary (${sentinels[1] ?? 'none answered'}); ` +
      'check the sentinel addresses and --sentinel-password'
    );
  return error.message || code || String(error);
}
