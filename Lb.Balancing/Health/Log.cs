using Microsoft.Extensions.Logging;

namespace Lb.Balancing.Health;

/// <summary>Log messages of the package (event ids 3000-3099).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Upstream {Pool} target {Target} is healthy")]
    public static partial void TargetHealthy(ILogger logger, string pool, string target);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "Upstream {Pool} target {Target} is unhealthy: {Error}")]
    public static partial void TargetUnhealthy(ILogger logger, string pool, string target, string? error);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Upstream {Pool} target {Target} ejected for {Seconds}s after {Failures} consecutive failures")]
    public static partial void TargetEjected(ILogger logger, string pool, string target, int failures, string seconds);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Debug, Message = "Health checks of upstream {Pool} started ({Targets} targets)")]
    public static partial void CheckerStarted(ILogger logger, string pool, int targets);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Debug, Message = "Health checks of upstream {Pool} stopped")]
    public static partial void CheckerStopped(ILogger logger, string pool);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Error, Message = "Health check loop of upstream {Pool} target {Target} failed")]
    public static partial void CheckLoopFailed(ILogger logger, Exception exception, string pool, string target);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Debug, Message = "Upstream registry applied: {Pools} pools, {Targets} targets")]
    public static partial void Applied(ILogger logger, int pools, int targets);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Information, Message = "Upstream {Pool} target {Target} passes its health checks again: ejection lifted")]
    public static partial void EjectionLifted(ILogger logger, string pool, string target);
}
