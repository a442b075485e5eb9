using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.AspNetCore.Server.Kestrel.Core;

// Usage: DemoBackend [port ...]   (default 3000 3001). Every port is one backend named "backend-<port>", on 127.0.0.1.
//   GET  /            "backend-<port>"                   (any other path too)
//   GET  /health      200 "ok", or the status set below
//   PUT  /health      body or ?status= sets what /health answers, e.g. curl -X PUT 'localhost:3001/health?status=503'
//   GET  /slow?ms=N   answers after N ms (default 3000), to watch draining and timeouts
var ports = args.Length == 0 ? [3000, 3001] : args.Select(a => int.TryParse(a, CultureInfo.InvariantCulture, out var p) && p is > 0 and < 65536
    ? p
    : throw new ArgumentException($"'{a}' is not a port (1-65535). Usage: DemoBackend [port ...]")).ToArray();

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseKestrel(kestrel =>
{
    foreach (var port in ports)
    {
        kestrel.ListenLocalhost(port, listen => listen.Protocols = HttpProtocols.Http1);
    }
});
var app = builder.Build();
var health = new ConcurrentDictionary<int, int>();

static string Name(HttpContext context) => $"backend-{context.Connection.LocalPort}";

app.MapGet("/health", (HttpContext context) =>
{
    var status = health.GetValueOrDefault(context.Connection.LocalPort, 200);
    return Results.Text(status == 200 ? "ok\n" : "unhealthy\n", statusCode: status);
});
app.MapMethods("/health", ["PUT", "POST"], async (HttpContext context) =>
{
    var text = context.Request.Query["status"].FirstOrDefault() ?? (await new StreamReader(context.Request.Body).ReadToEndAsync(context.RequestAborted)).Trim();
    if (!int.TryParse(text, CultureInfo.InvariantCulture, out var status) || status is < 200 or > 599)
    {
        return Results.Text("give the status /health should answer, 200-599: ?status=503 or a body of 503\n", statusCode: 400);
    }
    health[context.Connection.LocalPort] = status;
    return Results.Text($"{Name(context)} /health now answers {status}\n");
});
app.MapGet("/slow", async (HttpContext context, int? ms) =>
{
    await Task.Delay(Math.Clamp(ms ?? 3000, 0, 600_000), context.RequestAborted);
    return Results.Text($"{Name(context)} (after {ms ?? 3000} ms)\n");
});
app.MapFallback((HttpContext context) => Results.Text($"{Name(context)}\n"));

await app.StartAsync();
foreach (var port in ports)
{
    Console.WriteLine($"demo backend backend-{port} listening on http://localhost:{port}");
}
await app.WaitForShutdownAsync();
