using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;

namespace Lb.Raft.Transport;

/// <summary>
/// The Raft port for DotNext's custom transport: a TCP listener bound as DotNext's own TCP transport binds. It reads
/// the opener's address from each connection (<see cref="RaftPreamble"/>): a peer that connects is reachable again
/// (<see cref="PeerFailures.Reached(string)"/>), and when it later closes the connection <see cref="InboundClosed"/>
/// is told which peer it was.
/// </summary>
/// <param name="failures">Peers that failed recently.</param>
/// <param name="preambleTimeout">How long a new connection may take to send its first bytes.</param>
internal sealed class RaftListenerFactory(PeerFailures failures, TimeSpan preambleTimeout) : IConnectionListenerFactory
{
    private readonly PeerFailures _failures = failures;
    private readonly TimeSpan _preambleTimeout = preambleTimeout;

    /// <summary>Called with the peer's Raft address when a peer closes a connection it opened to this node.</summary>
    public Action<string>? InboundClosed { get; set; }

    private const int Backlog = 64;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(endpoint);
            socket.Listen(Backlog);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return ValueTask.FromResult<IConnectionListener>(new Listener(socket, this));
    }

    private sealed class Listener(Socket socket, RaftListenerFactory owner) : IConnectionListener
    {
        public EndPoint EndPoint { get; } = socket.LocalEndPoint!;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            while (true)
            {
                Socket accepted;
                try
                {
                    accepted = await socket.AcceptAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (ObjectDisposedException)
                {
                    return null; // unbound
                }
                catch (SocketException ex) when (ex.SocketErrorCode is SocketError.OperationAborted or SocketError.Interrupted)
                {
                    return null;
                }
                accepted.NoDelay = true;
                var connection = new SocketConnection(accepted);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(owner._preambleTimeout);
                try
                {
                    if (await RaftPreamble.ReadAsync(connection.Transport.Input, timeout.Token).ConfigureAwait(false) is { } peer)
                    {
                        owner._failures.Reached(peer);
                        connection.PeerClosed = () => owner.InboundClosed?.Invoke(peer);
                    }
                    return connection;
                }
                catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException && !cancellationToken.IsCancellationRequested)
                {
                    // A connection that sent nothing in time, or dropped at once: not a Raft peer's; keep accepting.
                    await connection.DisposeAsync().ConfigureAwait(false);
                }
                catch
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                    throw;
                }
            }
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            socket.Dispose();
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            socket.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
