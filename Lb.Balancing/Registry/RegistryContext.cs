using Lb.Balancing.Health;
using Microsoft.Extensions.Logging;

namespace Lb.Balancing.Registry;

/// <summary>What every target and checker of one registry shares: time, logging, metrics and the health epoch.</summary>
internal sealed class RegistryContext(TimeProvider time, ILogger logger, HealthMetrics metrics)
{
    private int _healthEpoch;

    public TimeProvider Time { get; } = time;

    public ILogger Logger { get; } = logger;

    public HealthMetrics Metrics { get; } = metrics;

    /// <summary>
    /// Bumped after any target's availability changes by an event (probe verdict, ejection), so balancers can
    /// cache the list of available targets and notice with one volatile read that it went stale.
    /// </summary>
    public int HealthEpoch => Volatile.Read(ref _healthEpoch);

    public void BumpHealthEpoch() => Interlocked.Increment(ref _healthEpoch);
}
