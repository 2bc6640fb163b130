// The price of an idle process waking up for work: a one-byte ping-pong over loopback TCP with a
// peer process, each side asleep in epoll until the other answers. The CPU this process spends per
// round trip is what every request costs a server whose loop has gone idle between requests (a
// worker sharing the load with another, a paced load), beyond the work itself.
import { spawn } from 'node:child_process';
import { createServer, type Socket } from 'node:net';

const PEER = `const s = require('node:net').connect(Number(process.argv[1]), '127.0.0.1');
s.setNoDelay(true);
s.on('data', (d) => s.write(d));
s.on('error', () => process.exit(0));`;

/** CPU microseconds this process spends per round trip, over `count` round trips. */
export function wakeupCpuMicros(count = 20_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer((sock: Socket) => {
      sock.setNoDelay(true);
      let n = 0;
      const cpu0 = process.cpuUsage();
      sock.on('data', () => {
        if (++n < count) {
          sock.write('x');
          return;
        }
        const cpu = process.cpuUsage(cpu0);
        sock.destroy();
        server.close();
        resolve((cpu.user + cpu.system) / count);
      });
      sock.write('x');
    });
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (!address || typeof address !== 'object') return reject(new Error('no port'));
      const peer = spawn(process.execPath, ['-e', PEER, String(address.port)], { stdio: 'ignore' });
      peer.once('error', reject);
      server.once('close', () => peer.kill());
    });
  });
}
