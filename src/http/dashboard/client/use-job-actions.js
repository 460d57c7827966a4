// Cancel and retry from any view: one request per click, busy state per job; success is
// announced politely, a failure is shown (and announced) as an alert naming the job.
import { useState } from './hooks.js';
import { api } from './api.js';
import { errorText } from './components.js';

export function useJobActions(onDone) {
  const [busyIds, setBusy] = useState(() => new Set());
  const [message, setMessage] = useState('');
  const [failure, setFailure] = useState('');
  const run = async (job, action) => {
    setBusy((s) => new Set(s).add(job.id));
    setFailure('');
    try {
      const updated = action === 'cancel' ? await api.cancel(job.id) : await api.retry(job.id);
      setMessage(`Job ${job.id} ${action === 'cancel' ? 'canceled' : 'queued again'}.`);
      onDone?.(updated);
    } catch (err) {
      setMessage('');
      setFailure(`Could not ${action} job ${job.id}: ${errorText(err)}`);
    } finally {
      setBusy((s) => {
        const n = new Set(s);
        n.delete(job.id);
        return n;
      });
    }
  };
  return { busyIds, message, failure, run };
}
