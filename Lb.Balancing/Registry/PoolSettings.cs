namespace Lb.Balancing;

/// <summary>The parsed active health check of a pool.</summary>
/// <param name="Path">Path probed with GET; starts with <c>/</c>.</param>
/// <param name="Interval">Time between probes of one target.</param>
/// <param name="Timeout">Deadline of one probe.</param>
/// <param name="ExpectStatus">The status a healthy target answers with.</param>
/// <param name="Rise">Consecutive successful probes that make an unhealthy target healthy.</param>
/// <param name="Fall">Consecutive failed probes that make a healthy target unhealthy.</param>
public sealed record ActiveHealthCheckSettings(string Path, TimeSpan Interval, TimeSpan Timeout, int ExpectStatus, int Rise, int Fall)
{
    /// <summary>A TCP connect check: <see cref="Path"/> and <see cref="ExpectStatus"/> are not used.</summary>
    public bool Tcp { get; init; }
}

/// <summary>The parsed passive health (outlier ejection) settings of a pool.</summary>
/// <param name="ConsecutiveFailures">Failures in a row that eject a target; 0 turns passive health off.</param>
/// <param name="EjectionTime">Base ejection time; repeated ejections double it, up to 10 times the base.</param>
/// <param name="Count5xx">Whether <see cref="RequestOutcome.ServerError5xx"/> counts as a failure.</param>
public sealed record PassiveHealthSettings(int ConsecutiveFailures, TimeSpan EjectionTime, bool Count5xx)
{
    /// <summary>The settings of a pool without <c>passive_health</c>.</summary>
    public static PassiveHealthSettings Default { get; } =
        new(Lb.Core.Spec.PassiveHealthSpec.DefaultConsecutiveFailures, Lb.Core.Spec.PassiveHealthSpec.DefaultEjectionTime, false);
}
