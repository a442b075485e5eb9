using System.Net;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using Lb.Core.Spec;
using Lb.Core.Store;
using Lb.Raft.Diagnostics;
using Lb.Raft.Membership;
using Lb.Raft.StateMachine;
using Lb.Raft.Timing;
using Lb.Raft.Transport;
using Microsoft.Extensions.Logging;

namespace Lb.Raft.Node;

/// <summary>
/// One running Raft member: the desired-state machine, its write-ahead log and snapshots, the persisted member
/// list and DotNext's TCP cluster, started in the order DotNext needs (snapshot restored before the log is opened,
/// log replayed before the cluster starts).
/// </summary>
internal sealed partial class RaftNode : IAsyncDisposable
{
    private readonly DesiredStateMachine _stateMachine;
    private readonly WriteAheadLog _wal;
    private readonly MemberListStorage _members;
    private readonly RaftCluster _cluster;
    private readonly ILogger _logger;
    private int _stopped;

    private RaftNode(RaftNodeSettings settings, DesiredStateMachine stateMachine, WriteAheadLog wal, MemberListStorage members, RaftCluster cluster, ILogger logger)
    {
        Settings = settings;
        _stateMachine = stateMachine;
        _wal = wal;
        _members = members;
        _cluster = cluster;
        _logger = logger;
        _cluster.LeaderChanged += OnLeaderChanged;
        _members.ConfigurationChanged += OnMembershipChangedAsync;
    }

    public RaftNodeSettings Settings { get; }

    /// <summary>Peer certificates this node's Raft TLS refused (null without Raft TLS).</summary>
    internal RaftTls.RejectionLog? TlsRejections { get; private init; }

    /// <summary>The crossing pre-vote rule of Lb's transport.</summary>
    internal PreVoteTieBreak? PreVotes { get; private init; }

    /// <summary>The timing this node runs with.</summary>
    public RaftTiming Timing { get; private set; } = RaftTiming.Default;

    public VersionedDesiredState Current => _stateMachine.Current;

    public DesiredStateChangeSignal Signal => _stateMachine.Signal;

    public ReplicatedHistory History => _stateMachine.History;

    internal RaftCluster Cluster => _cluster;

    internal WriteAheadLog Log => _wal;

    public bool IsStopped => Volatile.Read(ref _stopped) != 0;

    public static async Task<RaftNode> StartAsync(RaftNodeSettings settings, ILoggerFactory loggerFactory, TimeProvider time, CancellationToken cancellationToken)
    {
        var logger = loggerFactory.CreateLogger("Lb.Raft.RaftNode");
        Directory.CreateDirectory(settings.DataDirectory);
        var stateMachine = new DesiredStateMachine(settings.SnapshotDirectory, time, settings.Validator, settings.SnapshotEvery, settings.HistoryLimit,
            loggerFactory.CreateLogger("Lb.Raft.StateMachine"));
        WriteAheadLog? wal = null;
        MemberListStorage? members = null;
        RaftTls.RejectionLog? tlsRejections = null;
        try
        {
            // DotNext reads the restored snapshot in the WAL constructor to know where replay starts.
            await stateMachine.RestoreAsync(cancellationToken).ConfigureAwait(false);
            wal = new WriteAheadLog(new WriteAheadLog.Options
            {
                Location = settings.WalDirectory,
                ChunkSize = 1024 * 1024,
            }, stateMachine);
            await wal.InitializeAsync(cancellationToken).ConfigureAwait(false);

            members = new MemberListStorage(settings.MembersFile);
            var bind = await RaftAddress.ResolveBindAsync(settings.Bind, cancellationToken).ConfigureAwait(false);
            // After a restart the cluster's replicated timing is known once the log is replayed.
            var timing = settings.Timing ?? (RaftTiming.TryCreate(stateMachine.Current.State.RaftTiming, out var replicated, out _) ? replicated : RaftTiming.Default);
            var configuration = CreateConfiguration(settings, bind, members, timing, time, loggerFactory, logger, out var transport, out tlsRejections);
            configuration.Metadata[MemberMetadata.NodeIdKey] = settings.NodeId;
            if (settings.AdminUrl is { Length: > 0 } adminUrl)
            {
                configuration.Metadata[MemberMetadata.AdminUrlKey] = adminUrl;
            }
            ElectionTrace.EnsureStarted(loggerFactory);
            var cluster = new RaftCluster(configuration) { AuditTrail = wal };
            var node = new RaftNode(settings, stateMachine, wal, members, cluster, logger) { Timing = timing, TlsRejections = tlsRejections, PreVotes = transport.TieBreak };
            transport.Attach(cluster);
            await cluster.StartAsync(cancellationToken).ConfigureAwait(false);
            // DotNext tags its measurements with the public end point's own text. A round before this line is only
            // missed: the next one (a quarter lease later) counts.
            node._rounds = LeaderRounds.Subscribe(configuration.PublicEndPoint.ToString()!, node.OnRoundAcknowledged);
            LogStarted(logger, settings.NodeId, RaftAddress.Format(settings.Advertise), RaftAddress.Format(bind), stateMachine.Current.Version);
            return node;
        }
        catch
        {
            if (wal is not null)
            {
                await wal.DisposeAsync().ConfigureAwait(false);
            }
            members?.Dispose();
            await stateMachine.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// DotNext's configuration. Raft runs on Lb's own TCP transport (<see cref="RaftTransport"/>: a node that is not
    /// leading does not wait for a peer known to be down, and crossing pre-votes are settled), with mutual TLS on every
    /// connection when the node has Raft TLS files.
    /// </summary>
    private static RaftCluster.NodeConfiguration CreateConfiguration(RaftNodeSettings settings, IPEndPoint bind, MemberListStorage members, RaftTiming timing, TimeProvider time,
        ILoggerFactory loggerFactory, ILogger logger, out RaftTransport transport,
        out RaftTls.RejectionLog? tlsRejections)
    {
        tlsRejections = null;
        var tls = settings.Tls is { } files ? RaftTls.Create(files, logger, out tlsRejections) : null;
        transport = new RaftTransport(RaftAddress.Format(settings.Advertise), timing, time, logger, tls);
        return new RaftCluster.CustomTransportConfiguration(bind, transport.Listener, transport.Connections)
        {
            PublicEndPoint = settings.Advertise,
            ColdStart = settings.ColdStart,
            ConfigurationStorage = members,
            LowerElectionTimeout = timing.LowerElectionTimeoutMs,
            UpperElectionTimeout = timing.UpperElectionTimeoutMs,
            HeartbeatThreshold = timing.HeartbeatThreshold,
            RequestTimeout = timing.RequestTimeout,
            ConnectTimeout = timing.ConnectTimeout,
            IsLeaderLeaseEnabled = true,
            Standby = settings.Standby,
            WarmupRounds = 3,
            LoggerFactory = new FilteredLoggerFactory(loggerFactory, LogLevel.Error),
        };
    }

    /// <summary>Stops campaigning and serving Raft; the data on disk stays as it is.</summary>
    public async ValueTask StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }
        _cluster.LeaderChanged -= OnLeaderChanged;
        _members.ConfigurationChanged -= OnMembershipChangedAsync;
        _rounds?.Dispose();
        try
        {
            await _cluster.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            await _cluster.DisposeAsync().ConfigureAwait(false);
            await _wal.DisposeAsync().ConfigureAwait(false);
            _members.Dispose();
            await _stateMachine.DisposeAsync().ConfigureAwait(false);
            LogStopped(_logger, Settings.NodeId);
        }
    }

    public ValueTask DisposeAsync() => StopAsync();

    [LoggerMessage(EventId = 4010, Level = LogLevel.Information, Message = "Raft node {NodeId} started: advertise {Advertise}, bind {Bind}, desired state version {Version}")]
    private static partial void LogStarted(ILogger logger, string nodeId, string advertise, string bind, long version);

    [LoggerMessage(EventId = 4011, Level = LogLevel.Information, Message = "Raft node {NodeId} stopped")]
    private static partial void LogStopped(ILogger logger, string nodeId);
}
