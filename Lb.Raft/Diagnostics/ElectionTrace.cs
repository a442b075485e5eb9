using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Lb.Raft.Diagnostics;

/// <summary>
/// Logs how long each pre-vote and vote request took, so a failover can be broken down into phases from the log
/// alone (docs/benchmarks.md): DotNext logs neither the follower's timeout nor the requests of an election, but it
/// times every request in its client-side <c>response-time</c> histogram, tagged with the message type and the
/// peer. A pre-vote starts right after a follower's election timer fires, so the log line's timestamp minus the
/// elapsed time is when the follower noticed the leader was gone. Elections are rare: a few lines each.
/// One listener per process (the instruments are process-wide).
/// </summary>
internal static partial class ElectionTrace
{
    private const string ClientMeter = "DotNext.Net.Cluster.Consensus.Raft.Client";
    private const string ResponseTime = "response-time";
    private const string MessageTag = "dotnext.raft.client.message";
    private const string AddressTag = "dotnext.raft.client.address";

    private static readonly Lock Gate = new();
    private static MeterListener? s_listener;
    private static ILogger? s_logger;

    /// <summary>Starts the process's listener once; later calls (more nodes in one process) share it.</summary>
    public static void EnsureStarted(ILoggerFactory loggerFactory)
    {
        lock (Gate)
        {
            if (s_listener is not null)
            {
                return;
            }
            var logger = loggerFactory.CreateLogger("Lb.Raft.Elections");
            if (!logger.IsEnabled(LogLevel.Information))
            {
                return;
            }
            s_logger = logger;
            var listener = new MeterListener
            {
                InstrumentPublished = static (instrument, l) =>
                {
                    if (instrument.Meter.Name == ClientMeter && instrument.Name == ResponseTime)
                    {
                        l.EnableMeasurementEvents(instrument);
                    }
                },
            };
            listener.SetMeasurementEventCallback<double>(OnMeasurement);
            listener.Start();
            s_listener = listener;
        }
    }

    private static void OnMeasurement(Instrument instrument, double elapsedMs, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        string? message = null;
        string? peer = null;
        foreach (var tag in tags)
        {
            if (tag.Key == MessageTag)
            {
                message = tag.Value as string;
            }
            else if (tag.Key == AddressTag)
            {
                peer = tag.Value as string;
            }
        }
        // Heartbeats and replication are recorded here too, many times a second: only elections are of interest.
        if (message is "PreVote" or "Vote" && s_logger is { } logger)
        {
            LogRequest(logger, message, peer ?? "?", elapsedMs);
        }
    }

    [LoggerMessage(EventId = 4050, Level = LogLevel.Information, Message = "Raft {Message} request to {Peer} ended after {ElapsedMs:F1} ms")]
    private static partial void LogRequest(ILogger logger, string message, string peer, double elapsedMs);
}
