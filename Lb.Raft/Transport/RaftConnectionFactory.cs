using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.AspNetCore.Connections;

namespace Lb.Raft.Transport;

/// <summary>
/// Outbound Raft connections for DotNext's custom transport: plain TCP with no delay, as DotNext's own TCP transport,
/// plus <see cref="PeerFailures"/>: while this node is not leading, a peer that failed within the hold is not tried
/// again (the connect fails at once, which DotNext counts as an unavailable member). A leader always tries: a
/// follower it skipped could cost it its majority.
/// </summary>
/// <param name="failures">Peers that failed recently.</param>
/// <param name="localAddress">This node's advertised Raft address, sent first on every connection (<see cref="RaftPreamble"/>).</param>
/// <param name="connectTimeout">DotNext's connect timeout: a connect that failed only because it ran out counts as a failure.</param>
/// <param name="time">Clock for the connect's duration.</param>
/// <param name="tieBreak">Crossing pre-votes (<see cref="PreVoteTieBreak"/>); null: none.</param>
/// <param name="tls">Mutual TLS (Raft TLS): the handshake follows the connect, within the connect timeout; null: plain TCP.</param>
internal sealed class RaftConnectionFactory(PeerFailures failures, string localAddress, TimeSpan connectTimeout, TimeProvider time,
    PreVoteTieBreak? tieBreak = null, SslClientAuthenticationOptions? tls = null) : IConnectionFactory
{
    /// <summary>True while this node leads; set once the cluster exists.</summary>
    public Func<bool> IsLeading { get; set; } = static () => false;

    public async ValueTask<ConnectionContext> ConnectAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (!IsLeading() && failures.IsDown(endpoint))
        {
            throw new SocketException((int)SocketError.HostUnreachable, $"Raft peer {endpoint} failed less than {failures.Hold.TotalMilliseconds:F0} ms ago; not waiting for it again");
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var started = time.GetTimestamp();
        try
        {
            await socket.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            socket.Dispose();
            // Refused or unreachable, or the connect timeout ran out: the peer is down. A connect the caller gave up
            // on early (a state change) says nothing about the peer.
            if (ex is SocketException || time.GetElapsedTime(started) >= connectTimeout * 0.9)
            {
                failures.Failed(endpoint);
            }
            throw;
        }
        Stream? secured = null;
        if (tls is not null)
        {
            secured = await HandshakeAsync(socket, endpoint, cancellationToken).ConfigureAwait(false);
        }
        failures.Reached(endpoint);
        var connection = new SocketConnection(socket, secured) { PeerClosed = () => failures.Failed(endpoint) };
        try
        {
            await RaftPreamble.WriteAsync(connection.Transport.Output, localAddress, cancellationToken).ConfigureAwait(false);
            connection.Watch = tieBreak is null ? null : new PreVoteWatch.Outbound(tieBreak);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return connection;
    }

    private async Task<SslStream> HandshakeAsync(Socket socket, EndPoint endpoint, CancellationToken cancellationToken)
    {
        var ssl = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(connectTimeout);
        try
        {
            await ssl.AuthenticateAsClientAsync(tls!, timeout.Token).ConfigureAwait(false);
            return ssl;
        }
        catch (Exception ex)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            // A refused certificate (either side) or a peer that is not speaking TLS: this peer cannot be used now.
            if (ex is AuthenticationException or IOException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                failures.Failed(endpoint);
            }
            throw;
        }
    }
}
