import { loadConfig } from '../../../src/config';
import { startApiServer } from '../../../src/server';
import pino from 'pino';

test('startApiServer connects its own database and Temporal, serves, and closes cleanly', async () => {
  const config = {
    ...loadConfig({
      MONGODB_URI: process.env.MONGODB_URI,
      TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS,
      MONGODB_DATABASE: `api_server_${Date.now()}`,
      LOG_LEVEL: 'silent',
    }),
    PORT: 0,
    HOST: '127.0.0.1',
  };
  const api = await startApiServer(config, { logger: pino({ level: 'silent' }) });
  try {
    const health = await fetch(`${api.url}/health`);
    expect(health.status).toBe(200);
    const me = await fetch(`${api.url}/v1/catalog/products`, { headers: { authorization: `Bearer ${config.OPERATOR_API_KEY}` } });
    expect(me.status).toBe(200);
  } finally {
    await api.close();
  }
  await expect(fetch(`${api.url}/health`)).rejects.toThrow();
  await api.close(); // idempotent
});
