// One line on what to do when a connection fails for a TLS or scheme reason: the certificate is not
// trusted, names another host, or the URL's scheme is not what the node serves. Shared by the run
// agent and the CLI's API client; `flag` is the option that names the URL (--server, --sts-endpoint).

const UNTRUSTED_CERT = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
]);

export function tlsHint(
  url: URL,
  code: string | undefined,
  hasCa: boolean,
  flag: string,
): string | undefined {
  if (code !== undefined && UNTRUSTED_CERT.has(code))
    return hasCa
      ? `hint: the certificate of ${url.host} is not signed by the CA given with --ca / GATEPASS_CA_FILE: pass the node's CA (<data-dir>/tls/ca.pem for --tls-auto-host)`
      : `hint: the certificate of ${url.host} is not publicly trusted: pass --ca <data-dir>/tls/ca.pem (or set GATEPASS_CA_FILE) for a node started with --tls-auto-host`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return 'hint: the certificate does not name this host: use the host name or address the node was started with (--tls-auto-host)';
  if (url.protocol === 'http:' && (code === 'ECONNRESET' || code === 'HPE_INVALID_CONSTANT'))
    return `hint: the node may be serving HTTPS: try ${flag} https://${url.host} (with --ca for a local CA)`;
  if (url.protocol === 'https:' && code === 'EPROTO')
    return `hint: the node serves plain HTTP: try ${flag} http://${url.host}`;
  return undefined;
}

/** Nothing listens where the URL points: name the flag that points there. */
export function connectHint(url: URL, code: string | undefined, flag: string): string | undefined {
  return code === 'ECONNREFUSED'
    ? `hint: nothing listens at ${url.host}: is \`gatepass serve\` running there? ${flag} names the node`
    : undefined;
}
