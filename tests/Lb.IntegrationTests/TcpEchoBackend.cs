using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Lb.IntegrationTests;

/// <summary>
/// A real TCP backend on 127.0.0.1:0: echoes every byte and half-closes after the client's FIN. Optionally sends a
/// greeting first (its name, so a test can see which target a connection reached) or resets the connection after a
/// number of bytes (a backend dying mid-stream).
/// </summary>
internal sealed class TcpEchoBackend : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly string? _greeting;
    private readonly int _resetAfter;
    private readonly ConcurrentDictionary<Socket, byte> _open = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accept;
    private int _accepted;
    private int _closed;

    private TcpEchoBackend(string? greeting, int resetAfter)
    {
        _greeting = greeting;
        _resetAfter = resetAfter;
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(2048);
        Address = _listener.LocalEndPoint!.ToString()!;
        _accept = AcceptLoopAsync();
    }

    public string Address { get; }

    public int Accepted => Volatile.Read(ref _accepted);

    public int Open => _open.Count;

    /// <summary>Connections whose client side ended (FIN or reset) as this backend saw it.</summary>
    public int Closed => Volatile.Read(ref _closed);

    public static TcpEchoBackend Start(string? greeting = null, int resetAfter = 0) => new(greeting, resetAfter);

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            Interlocked.Increment(ref _accepted);
            _open[socket] = 0;
            _ = ServeAsync(socket);
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        var buffer = new byte[16 * 1024];
        var total = 0;
        try
        {
            if (_greeting is not null)
            {
                await socket.SendAsync(Encoding.ASCII.GetBytes(_greeting), SocketFlags.None, _stop.Token);
            }
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (read == 0)
                {
                    socket.Shutdown(SocketShutdown.Send);
                    break;
                }
                total += read;
                if (_resetAfter > 0 && total >= _resetAfter)
                {
                    await socket.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stop.Token);
                    socket.LingerState = new LingerOption(true, 0); // close with RST: the process "died"
                    break;
                }
                await socket.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            _open.TryRemove(socket, out _);
            Interlocked.Increment(ref _closed);
            socket.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        await _accept;
        foreach (var socket in _open.Keys)
        {
            socket.Dispose();
        }
        _stop.Dispose();
    }
}
