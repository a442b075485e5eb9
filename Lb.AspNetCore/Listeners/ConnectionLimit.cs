using Microsoft.AspNetCore.Connections;

namespace Lb.AspNetCore.Listeners;

/// <summary>
/// Counts a listener's open connections and closes the ones over its budget right after accept. Each accepted socket
/// is a file descriptor: an unbounded listener lets idle clients exhaust RLIMIT_NOFILE, after which the runtime
/// aborts the process the next time it needs a thread (docs/reliability.md).
/// </summary>
internal sealed class ConnectionLimit(string listener, long max, ListenerMetrics? metrics)
{
    private long _open;

    public ConnectionDelegate Wrap(ConnectionDelegate next)
    {
        metrics?.Register(listener, () => Volatile.Read(ref _open), max);
        return async connection =>
        {
            if (Interlocked.Increment(ref _open) > max)
            {
                Interlocked.Decrement(ref _open);
                metrics?.Rejected(listener);
                // Returning closes the connection; the client sees a reset or EOF, existing connections are untouched.
                return;
            }
            try
            {
                await next(connection).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _open);
            }
        };
    }
}
