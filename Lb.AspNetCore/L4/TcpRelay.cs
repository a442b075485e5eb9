using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Lb.Balancing;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace Lb.AspNetCore.L4;

/// <summary>
/// One client connection of a TCP listener: picks a target (counted in flight while the connection lives),
/// connects within the listener's connect timeout (a failure is retried once on another target), then copies
/// bytes both ways with back-pressure: the client side through Kestrel's transport pipes, the target side on its
/// socket. The client's FIN becomes a write shutdown towards the target; the target's FIN completes the client
/// output after every byte before it (Kestrel's socket transport then closes the client connection in both
/// directions: it has no half-close towards the client). No bytes either way for the idle timeout closes both sides.
/// </summary>
internal sealed class TcpRelay(ConnectionContext client, TcpListenerRuntime listener, TimeProvider time, TcpMetrics metrics, ILogger logger)
{
    private const int ReceiveSize = 16 * 1024;
    private readonly ConnectionContext _client = client;
    private readonly CancellationTokenSource _abort = new();
    private long _lastActivity;

    public void Abort()
    {
        try
        {
            _abort.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public async Task RunAsync()
    {
        UpstreamTarget? target = null;
        Socket? upstream = null;
        var outcome = RequestOutcome.Success;
        try
        {
            (target, upstream) = await ConnectAsync();
            if (upstream is null)
            {
                return;
            }
            metrics.Opened(listener.Id);
            try
            {
                outcome = await RelayAsync(upstream);
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
            upstream?.Dispose();
            target?.Complete(outcome);
            await _client.DisposeAsync();
            _abort.Dispose();
        }
    }

    /// <summary>Picks and connects; on a connect failure picks once more, avoiding the failed target.</summary>
    private async Task<(UpstreamTarget?, Socket?)> ConnectAsync()
    {
        if (listener.Balancer is not { } balancer)
        {
            return (null, null);
        }
        var remote = _client.RemoteEndPoint as IPEndPoint;
        var local = _client.LocalEndPoint as IPEndPoint;
        UpstreamTarget? failed = null;
        for (var attempt = 0; attempt < 2; attempt++)
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
                return (null, null);
            }
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            using var timeout = new CancellationTokenSource(listener.ConnectTimeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, _abort.Token);
            try
            {
                await socket.ConnectAsync(target.Host, target.Port, linked.Token);
                if (listener.Spec.SendProxy is { } version)
                {
                    // Before any client byte, so the target reads it first.
                    await socket.SendAsync(ProxyProtocolHeader.Build(version, remote, local), SocketFlags.None, linked.Token);
                }
                return (target, socket);
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
                socket.Dispose();
                metrics.ConnectFailed(listener.Id);
                target.Complete(timeout.IsCancellationRequested ? RequestOutcome.Timeout : RequestOutcome.ConnectFailure);
                if (_abort.IsCancellationRequested)
                {
                    return (null, null);
                }
                failed = target;
            }
        }
        return (null, null);
    }

    private async Task<RequestOutcome> RelayAsync(Socket upstream)
    {
        Touch();
        using var idle = time.CreateTimer(static s => ((TcpRelay)s!).CheckIdle(), this, Period(listener.IdleTimeout), Period(listener.IdleTimeout));
        using var registration = _abort.Token.Register(static s =>
        {
            var (relay, socket) = ((TcpRelay, Socket))s!;
            relay._client.Abort();
            socket.Dispose();
        }, (this, upstream));
        var toUpstream = ClientToUpstreamAsync(upstream);
        var toClient = UpstreamToClientAsync(upstream);
        await Task.WhenAll(toUpstream, toClient);
        if (_abort.IsCancellationRequested)
        {
            return RequestOutcome.Timeout;
        }
        return toClient.Result;
    }

    private static TimeSpan Period(TimeSpan idle) => idle / 4 > TimeSpan.FromMilliseconds(50) ? idle / 4 : TimeSpan.FromMilliseconds(50);

    private void Touch() => Volatile.Write(ref _lastActivity, time.GetTimestamp());

    private void CheckIdle()
    {
        if (time.GetElapsedTime(Volatile.Read(ref _lastActivity)) >= listener.IdleTimeout)
        {
            Abort();
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
                var result = await input.ReadAsync(_abort.Token);
                var buffer = result.Buffer;
                foreach (var segment in buffer)
                {
                    await upstream.SendAsync(segment, SocketFlags.None, _abort.Token);
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

    /// <summary>Target → client until the target's FIN; flushes wait while the client reads slowly (back-pressure).</summary>
    private async Task<RequestOutcome> UpstreamToClientAsync(Socket upstream)
    {
        var output = _client.Transport.Output;
        try
        {
            while (true)
            {
                var memory = output.GetMemory(ReceiveSize);
                var read = await upstream.ReceiveAsync(memory, SocketFlags.None, _abort.Token);
                if (read == 0)
                {
                    break;
                }
                Touch();
                output.Advance(read);
                var flush = await output.FlushAsync(_abort.Token);
                if (flush.IsCompleted || flush.IsCanceled)
                {
                    break;
                }
            }
            await output.CompleteAsync();
            return RequestOutcome.Success;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException or IOException or ConnectionAbortedException)
        {
            var reset = ex is SocketException;
            Abort();
            await output.CompleteAsync();
            // A reset by the target is its failure; an abort (idle, shutdown) says nothing about it.
            return reset ? RequestOutcome.OtherFailure : RequestOutcome.ClientAborted;
        }
    }
}
