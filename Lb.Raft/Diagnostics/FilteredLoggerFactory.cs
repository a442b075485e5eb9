using Microsoft.Extensions.Logging;

namespace Lb.Raft.Diagnostics;

/// <summary>
/// Hands DotNext loggers that drop everything below <paramref name="minimum"/>: DotNext logs every election round and
/// replication step, and each unreachable peer as a warning with a stack trace, which drowns the node's own log
/// (Lb.Raft logs leader changes, leases and membership itself). DotNext's four state-transition events (candidate and
/// leader, started and completed: one line each per election) pass at Information, because a failover's phases
/// are read from them (docs/benchmarks.md).
/// </summary>
internal sealed class FilteredLoggerFactory(ILoggerFactory inner, LogLevel minimum) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new FilteredLogger(inner.CreateLogger(categoryName), minimum);

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose()
    {
        // The inner factory belongs to the host.
    }

    private sealed class FilteredLogger(ILogger inner, LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        // DotNext.Net.Cluster's event ids: 74002/74003 transition to candidate started/completed, 74004/74005 to leader.
        private const int FirstTransition = 74002;
        private const int LastTransition = 74005;

        public bool IsEnabled(LogLevel logLevel) => (logLevel >= minimum || logLevel == LogLevel.Information) && inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (inner.IsEnabled(logLevel) && (logLevel >= minimum || eventId.Id is >= FirstTransition and <= LastTransition))
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
