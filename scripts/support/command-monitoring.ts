/**
 * The connection string with the driver's command monitoring turned on, so a benchmark can count and time every
 * command its in-process clients send (FerretDB's URI is `mongodb://host:port`, with no path or query).
 */
export function withCommandMonitoring(uri: string): string {
  if (uri.includes('?')) return `${uri}&monitorCommands=true`;
  return `${uri}${uri.endsWith('/') || /^mongodb(\+srv)?:\/\/[^/]+\/./.test(uri) ? '' : '/'}?monitorCommands=true`;
}
