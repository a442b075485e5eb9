using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Lb.TestSupport;

/// <summary>
/// A backend on a plain socket (127.0.0.1, port chosen by the OS) that answers every request with fixed bytes and
/// records the first request head exactly as it arrived: for wire details Kestrel would normalise away.
/// </summary>
public sealed class RawBackend : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly byte[] _response;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<string> _head = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _loop;

    private RawBackend(string response)
    {
        _response = Encoding.ASCII.GetBytes(response);
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Address = $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        _loop = AcceptAsync();
    }

    /// <summary><c>127.0.0.1:port</c>.</summary>
    public string Address { get; }

    /// <summary>The first request's head (request line and headers).</summary>
    public Task<string> RequestHead => _head.Task;

    public static Task<RawBackend> StartAsync(string response) => Task.FromResult(new RawBackend(response));

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                _ = ServeAsync(client);
            }
        }
        // Dispose stops the listener; an accept that starts or is pending then fails with any of these.
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException or ObjectDisposedException or SocketException)
        {
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var buffer = new byte[16384];
                var received = new StringBuilder();
                while (true)
                {
                    var read = await stream.ReadAsync(buffer, _stop.Token);
                    if (read == 0)
                    {
                        return;
                    }
                    received.Append(Encoding.ASCII.GetString(buffer, 0, read));
                    var text = received.ToString();
                    var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                    if (end >= 0)
                    {
                        _head.TrySetResult(text[..end]);
                        received.Clear();
                        await stream.WriteAsync(_response, _stop.Token);
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop;
        _stop.Dispose();
    }
}
