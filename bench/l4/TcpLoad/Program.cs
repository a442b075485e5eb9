// Load generator and origin for the L4 benchmark (bench/l4/run.sh); loopback only.
//   TcpLoad backend <port> [<port> ...]        origin: reads a line "<n>\n", writes n bytes, then closes (FIN)
//   TcpLoad short <ip:port> <connections> <seconds> <replyBytes>
//                                              each of <connections> workers loops: connect, send "<replyBytes>\n",
//                                              read to EOF, close; prints "connections=.. errors=.. seconds=.."
//   TcpLoad bulk <ip:port> <connections> <seconds> <bytesPerConnection>
//                                              each worker loops: connect, ask for bytesPerConnection, read to EOF;
//                                              prints "bytes=.. connections=.. errors=.. seconds=.." (bytes read in the window)
//   TcpLoad wait <ip:port> <seconds>           exits 0 once one short exchange through ip:port succeeds
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

var inv = CultureInfo.InvariantCulture;
switch (args.FirstOrDefault())
{
    case "backend":
        await Origin.RunAsync([.. args.Skip(1).Select(a => int.Parse(a, inv))]);
        return 0;
    case "short":
        return await Load.ShortAsync(IPEndPoint.Parse(args[1]), int.Parse(args[2], inv), double.Parse(args[3], inv), int.Parse(args[4], inv));
    case "bulk":
        return await Load.BulkAsync(IPEndPoint.Parse(args[1]), int.Parse(args[2], inv), double.Parse(args[3], inv), long.Parse(args[4], inv));
    case "wait":
        return await Load.WaitAsync(IPEndPoint.Parse(args[1]), double.Parse(args[2], inv));
    default:
        await Console.Error.WriteLineAsync("usage: TcpLoad backend <port>... | short|bulk <ip:port> <connections> <seconds> <bytes> | wait <ip:port> <seconds>");
        return 2;
}

internal static class Origin
{
    private static readonly byte[] Chunk = CreateChunk();

    private static byte[] CreateChunk()
    {
        var chunk = new byte[256 * 1024];
        Array.Fill(chunk, (byte)'x');
        return chunk;
    }

    public static async Task RunAsync(int[] ports)
    {
        var loops = ports.Select(port =>
        {
            var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
            listener.Listen(4096);
            return AcceptLoopAsync(listener);
        }).ToArray();
        await Task.WhenAll(loops);
    }

    private static async Task AcceptLoopAsync(Socket listener)
    {
        while (true)
        {
            var socket = await listener.AcceptAsync();
            _ = ServeAsync(socket);
        }
    }

    private static async Task ServeAsync(Socket socket)
    {
        using (socket)
        {
            try
            {
                socket.NoDelay = true;
                var line = new byte[32];
                var length = 0;
                while (Array.IndexOf(line, (byte)'\n', 0, length) < 0)
                {
                    var read = await socket.ReceiveAsync(line.AsMemory(length), SocketFlags.None);
                    if (read == 0 || (length += read) == line.Length)
                    {
                        return;
                    }
                }
                var remaining = long.Parse(Encoding.ASCII.GetString(line, 0, Array.IndexOf(line, (byte)'\n')), CultureInfo.InvariantCulture);
                while (remaining > 0)
                {
                    var n = (int)Math.Min(remaining, Chunk.Length);
                    await socket.SendAsync(Chunk.AsMemory(0, n), SocketFlags.None);
                    remaining -= n;
                }
                socket.Shutdown(SocketShutdown.Send);
            }
            catch (SocketException)
            {
                // The client (or the proxy) went away: nothing to serve.
            }
        }
    }
}

internal static class Load
{
    public static async Task<int> ShortAsync(IPEndPoint target, int connections, double seconds, int replyBytes)
    {
        var request = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{replyBytes}\n"));
        long done = 0, errors = 0;
        var clock = Stopwatch.StartNew();
        var window = TimeSpan.FromSeconds(seconds);
        var workers = Enumerable.Range(0, connections).Select(_ => Task.Run(async () =>
        {
            var buffer = new byte[Math.Max(replyBytes, 4096)];
            while (clock.Elapsed < window)
            {
                try
                {
                    using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                    await socket.ConnectAsync(target);
                    await socket.SendAsync(request, SocketFlags.None);
                    var total = 0;
                    int read;
                    while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None)) > 0)
                    {
                        total += read;
                    }
                    Interlocked.Increment(ref total == replyBytes ? ref done : ref errors);
                }
                catch (SocketException)
                {
                    Interlocked.Increment(ref errors);
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);
        var elapsed = clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"connections={done} errors={errors} seconds={elapsed:F3}"));
        return 0;
    }

    public static async Task<int> BulkAsync(IPEndPoint target, int connections, double seconds, long bytesPerConnection)
    {
        var request = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{bytesPerConnection}\n"));
        long bytes = 0, done = 0, errors = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, connections).Select(_ => Task.Run(async () =>
        {
            var buffer = new byte[256 * 1024];
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                    await socket.ConnectAsync(target, stop.Token);
                    await socket.SendAsync(request, SocketFlags.None, stop.Token);
                    long total = 0;
                    int read;
                    while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, stop.Token)) > 0)
                    {
                        total += read;
                        Interlocked.Add(ref bytes, read);
                    }
                    Interlocked.Increment(ref total == bytesPerConnection ? ref done : ref errors);
                }
                catch (OperationCanceledException)
                {
                    // The window ended mid-transfer: the bytes read so far count, the connection does not.
                }
                catch (SocketException)
                {
                    Interlocked.Increment(ref errors);
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);
        var elapsed = clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"bytes={Interlocked.Read(ref bytes)} connections={done} errors={errors} seconds={elapsed:F3}"));
        return 0;
    }

    public static async Task<int> WaitAsync(IPEndPoint target, double seconds)
    {
        var clock = Stopwatch.StartNew();
        var buffer = new byte[64];
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            try
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(target);
                await socket.SendAsync("2\n"u8.ToArray(), SocketFlags.None);
                var total = 0;
                int read;
                while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None)) > 0)
                {
                    total += read;
                }
                if (total == 2)
                {
                    return 0;
                }
            }
            catch (SocketException)
            {
            }
            await Task.Delay(20);
        }
        return 1;
    }
}
