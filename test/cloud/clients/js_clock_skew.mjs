// The JS SDK v3 on a machine whose clock is off: reads {endpoint, creds, skewMs, maxAttempts} on
// stdin, moves this process's clock (Date.now) by skewMs, calls GetCallerIdentity once through an
// unmodified STSClient and prints what happened: the account or the error, the attempts made and
// the clock offset the SDK ended with. Never prints credentials.
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const job = JSON.parse(input);
const realNow = Date.now.bind(Date);
Date.now = () => realNow() + job.skewMs;

const client = new STSClient({
  endpoint: job.endpoint,
  region: 'us-east-1',
  credentials: job.creds,
  maxAttempts: job.maxAttempts,
});
try {
  const out = await client.send(new GetCallerIdentityCommand({}));
  console.log(
    JSON.stringify({
      account: out.Account,
      attempts: out.$metadata.attempts,
      offsetMs: client.config.systemClockOffset,
    }),
  );
} catch (e) {
  console.log(
    JSON.stringify({
      error: e.name,
      message: e.message,
      status: e.$metadata?.httpStatusCode,
      attempts: e.$metadata?.attempts,
      offsetMs: client.config.systemClockOffset,
    }),
  );
}
