import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedDelivery {
  headers: Record<string, string>;
  body: string;
  status: number;
  at: number;
}

/**
 * A webhook receiver on loopback: answers each delivery with the next scripted status (then 200)
 * and keeps what it received, so tests can verify signatures and count retries.
 */
export class WebhookReceiver {
  readonly deliveries: ReceivedDelivery[] = [];
  private script: number[] = [];
  private server?: http.Server;
  url = '';

  answerNext(...statuses: number[]): void {
    this.script.push(...statuses);
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const status = this.script.shift() ?? 200;
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
        this.deliveries.push({
          headers,
          body: Buffer.concat(chunks).toString('utf8'),
          status,
          at: Date.now(),
        });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  forJob(jobId: string): ReceivedDelivery[] {
    return this.deliveries.filter((d) => (JSON.parse(d.body) as { data: { id: string } }).data.id === jobId);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
