// GET /metrics: Prometheus text; the status metrics are refreshed from Redis on each scrape.
import type { Registry } from 'prom-client';
import type { StatusJson, StatusSources } from '../../supervisor/status.js';
import type { Handler } from '../reply.js';
import type { ReadStatus } from '../status-reader.js';

export interface MetricsPorts {
  readStatus: ReadStatus;
  statusMetrics: { update(status: StatusJson, sources: StatusSources): void };
  registry: Pick<Registry, 'metrics' | 'contentType'>;
}

export function metricsHandler(ports: MetricsPorts): Handler {
  return async () => {
    const { status, sources } = await ports.readStatus();
    ports.statusMetrics.update(status, sources);
    const text = await ports.registry.metrics();
    return { status: 200, type: ports.registry.contentType, text, headers: { 'Cache-Control': 'no-store' } };
  };
}
