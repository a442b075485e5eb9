using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Lb.Balancing;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;

namespace Lb.AspNetCore.L4;

/// <summary>
/// One client connection of a TCP listener: picks a target (counted in flight while the connection lives),
/// connects within the listener's connect timeout (a failure is retried once on another target), then copies
/// bytes both ways with back-pressure: client → target from Kestrel's transport input pipe, target → client
/// straight onto the client socket (Kestrel's socket transport closes both directions when its output completes,
/// so a half-close towards the client needs the socket itself). Either side's FIN becomes a write shutdown towards
/// the other after every byte before it, and the other direction carries on until its own FIN. No bytes either way
/// for the idle timeout closes both sides.
/// </summary>
/// <remarks>
/// Deadlines have no timer of their own: the listener sweeps its connections (<see cref="Sweep"/>). Aborting closes
/// both sockets, which ends every pending operation, so no I/O call carries a cancellation token.
/// </remarks>
internal sealed class TcpRelay(ConnectionContext client, TcpListenerRuntime listener, TimeProvider time, TcpMetrics metrics, ILogger logger, bool inline = false)
{
    private const int ReceiveSize = 16 * 1024;
    private const int Connecting = 0;
    private const int Relaying = 1;
    private readonly ConnectionContext _client = client;
    private Socket? _upstream;
    private int _phase;
    private long _since;
    private long _lastActivity;
    private volatile bool _aborted;
    private volatile bool _connectTimedOut;
    private volatile bool _targetFailed;

    /// <summary>Closes both sides now (idle timeout, shutdown); safe from any thread, any number of times.</summary>
    public void Abort()
    {
        _aborted = true;
        Volatile.Read(ref _upstream)?.Dispose();
        try
        {
            _client.Abort();
        }
        catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException)
        {
            // The connection finished while it was being aborted.
        }
    }

    /// <summary>Called by the listener's sweep: ends a connect attempt past the connect timeout, or an idle connection.</summary>
    public void Sweep()
    {
        if (Volatile.Read(ref _phase) == Connecting)
        {
            if (Volatile.Read(ref _upstream) is { } attempt && time.GetElapsedTime(Volatile.Read(ref _since)) >= listener.ConnectTimeout)
            {
                _connectTimedOut = true;
                attempt.Dispose();
            }
        }
        else if (time.GetElapsedTime(Volatile.Read(ref _lastActivity)) >= listener.IdleTimeout)
        {
            Abort();
        }
    }

    /// <summary>Serves the connection to its end; the outcome is <see cref="RequestOutcome.OtherFailure"/> when the
    /// target failed it (no target could be connected, or the target reset the connection mid-stream).</summary>
    public async Task<RequestOutcome> RunAsync()
    {
        UpstreamTarget? target = null;
        var outcome = RequestOutcome.Success;
        try
        {
            target = await ConnectAsync();
            if (target is null)
            {
                outcome = _aborted ? RequestOutcome.ClientAborted : RequestOutcome.OtherFailure;
                return outcome;
            }
            metrics.Opened(listener.Id);
            try
            {
                outcome = await RelayAsync(_upstream!);
            }
            finally
            {
                metrics.Closed(listener.Id);
            }
        }
#pragma warning disable CA1031 // One connection's failure must never reach the accept loop.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            outcome = RequestOutcome.OtherFailure;
            logger.LogDebug(ex, "TCP relay on listener {Id} failed", listener.Id);
        }
        finally
        {
            Volatile.Read(ref _upstream)?.Dispose();
            target?.Complete(outcome);
            await _client.DisposeAsync();
        }
        return outcome;
    }

    /// <summary>Picks and connects; on a connect failure picks once more, avoiding the failed target.</summary>
    private async Task<UpstreamTarget?> ConnectAsync()
    {
        if (listener.Balancer is not { } balancer)
        {
            return null;
        }
        var remote = _client.RemoteEndPoint as IPEndPoint;
        var local = _client.LocalEndPoint as IPEndPoint;
        UpstreamTarget? failed = null;
        for (var attempt = 0; attempt < 2 && !_aborted; attempt++)
        {
            var context = new PickContext
            {
                ClientAddress = remote?.Address,
                ClientPort = remote?.Port ?? 0,
                LocalAddress = local?.Address,
                LocalPort = local?.Port ?? 0,
                Protocol = "tcp",
                Exclude = failed,
            };
            var target = balancer.Pick(context).Target;
            if (target is null)
            {
                return null;
            }
            // An IP target gets a socket of its own family (a dual-mode socket costs a system call more) and no name lookup.
            var address = IPAddress.TryParse(target.Host, out var ip) ? ip : null;
            var socket = address is null
                ? new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true }
                : new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            if (inline)
            {
                FastPath.InlineCompletions.TryEnable(socket);
            }
            _connectTimedOut = false;
            Volatile.Write(ref _since, time.GetTimestamp());
            Volatile.Write(ref _upstream, socket);
            try
            {
                if (_aborted)
                {
                    throw new ObjectDisposedException(nameof(Socket));
                }
                await (address is null ? socket.ConnectAsync(target.Host, target.Port) : socket.ConnectAsync(new IPEndPoint(address, target.Port)));
                if (listener.Spec.SendProxy is { } version)
                {
                    // Before any client byte, so the target reads it first.
                    await socket.SendAsync(ProxyProtocolHeader.Build(version, remote, local), SocketFlags.None);
                }
                return target;
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                socket.Dispose();
                Volatile.Write(ref _upstream, null);
                if (_aborted)
                {
                    target.Complete(RequestOutcome.ClientAborted);
                    return null;
                }
                metrics.ConnectFailed(listener.Id);
                target.Complete(_connectTimedOut ? RequestOutcome.Timeout : RequestOutcome.ConnectFailure);
                failed = target;
            }
        }
        return null;
    }

    private async Task<RequestOutcome> RelayAsync(Socket upstream)
    {
        Touch();
        Volatile.Write(ref _phase, Relaying);
        if (_aborted)
        {
            // Aborted between the connect and here: the sweep or a shutdown found no socket to close yet.
            upstream.Dispose();
        }
        var toUpstream = ClientToUpstreamAsync(upstream);
        var toClient = UpstreamToClientAsync(upstream);
        await Task.WhenAll(toUpstream, toClient);
        // An idle timeout or a shutdown abort says nothing about the target, so it does not count against it.
        return _targetFailed ? RequestOutcome.OtherFailure : toClient.Result;
    }

    private void Touch() => Volatile.Write(ref _lastActivity, time.GetTimestamp());

    private async ValueTask SendToTargetAsync(Socket upstream, ReadOnlyMemory<byte> segment)
    {
        try
        {
            await upstream.SendAsync(segment, SocketFlags.None);
        }
        catch (SocketException) when (!_aborted)
        {
            _targetFailed = true;
            throw;
        }
    }

    /// <summary>Client → target until the client's FIN, which becomes a write shutdown on the target socket.</summary>
    private async Task ClientToUpstreamAsync(Socket upstream)
    {
        var input = _client.Transport.Input;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync();
                var buffer = result.Buffer;
                foreach (var segment in buffer)
                {
                    await SendToTargetAsync(upstream, segment);
                }
                if (!buffer.IsEmpty)
                {
                    Touch();
                }
                input.AdvanceTo(buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }
            upstream.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException or IOException or ConnectionAbortedException)
        {
            // The target went away or the relay was aborted: close the client too, so it never waits on a dead peer.
            Abort();
        }
        finally
        {
            await input.CompleteAsync();
        }
    }

    /// <summary>
    /// Target → client until the target's FIN, which becomes a write shutdown on the client socket (the client may
    /// still send). Sends wait while the client reads slowly (back-pressure). Without a socket (another transport)
    /// the bytes go through the output pipe, whose completion closes the client connection in both directions.
    /// </summary>
    private async Task<RequestOutcome> UpstreamToClientAsync(Socket upstream)
    {
        var clientSocket = _client.Features.Get<IConnectionSocketFeature>()?.Socket;
        var buffer = ArrayPool<byte>.Shared.Rent(ReceiveSize);
        try
        {
            while (true)
            {
                int read;
                try
                {
                    read = await upstream.ReceiveAsync(buffer, SocketFlags.None);
                }
                catch (SocketException) when (!_aborted)
                {
                    // The target reset the connection (died mid-stream): its failure, and the client is closed too.
                    _targetFailed = true;
                    Abort();
                    return RequestOutcome.OtherFailure;
                }
                if (read == 0)
                {
                    break;
                }
                Touch();
                if (clientSocket is not null)
                {
                    await clientSocket.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
                }
                else
                {
                    var flush = await _client.Transport.Output.WriteAsync(buffer.AsMemory(0, read));
                    if (flush.IsCompleted || flush.IsCanceled)
                    {
                        break;
                    }
                }
            }
            if (clientSocket is not null)
            {
                clientSocket.Shutdown(SocketShutdown.Send);
            }
            else
            {
                await _client.Transport.Output.CompleteAsync();
            }
            return RequestOutcome.Success;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException or IOException or ConnectionAbortedException)
        {
            // The client went away, or the relay was aborted (idle, shutdown): says nothing about the target.
            Abort();
            return RequestOutcome.ClientAborted;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
