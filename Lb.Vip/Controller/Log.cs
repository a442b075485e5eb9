using Microsoft.Extensions.Logging;

namespace Lb.Vip.Controller;

internal static partial class Log
{
    [LoggerMessage(5000, LogLevel.Information, "VIP {Address} added on {Interface} (leader lease, term {Term})")]
    public static partial void Acquired(ILogger logger, string address, string @interface, long term);

    [LoggerMessage(5001, LogLevel.Information, "VIP {Address} removed from {Interface} ({Reason})")]
    public static partial void Released(ILogger logger, string address, string @interface, string reason);

    [LoggerMessage(5002, LogLevel.Warning, "{Error}")]
    public static partial void DriverFailed(ILogger logger, string error);

    [LoggerMessage(5003, LogLevel.Debug, "VIP controller: {Previous} -> {Next}")]
    public static partial void Transition(ILogger logger, VipState previous, VipState next);

    [LoggerMessage(5004, LogLevel.Information, "VIP settings changed: {Address} on {Interface}")]
    public static partial void SettingsChanged(ILogger logger, string address, string @interface);

    [LoggerMessage(5005, LogLevel.Warning, "VIP {Address} left on {Interface} at shutdown (release_on_shutdown is false)")]
    public static partial void LeftOnShutdown(ILogger logger, string address, string @interface);

    [LoggerMessage(5006, LogLevel.Error, "VIP controller failed unexpectedly; retrying")]
    public static partial void Unexpected(ILogger logger, Exception exception);

    [LoggerMessage(5007, LogLevel.Information, "VIP {Address} announced on {Interface} (gratuitous ARP round {Round} of {Count})")]
    public static partial void Announced(ILogger logger, string address, string @interface, int round, int count);
}
