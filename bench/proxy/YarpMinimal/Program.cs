// The smallest YARP proxy that does what the benchmark asks of every system: one catch-all route, one cluster of
// two destinations, round robin. Configured in code. Usage: YarpMinimal <listen port> <backend1 host:port> <backend2 host:port>.
using System.Globalization;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Yarp.ReverseProxy.Configuration;

var port = int.Parse(args[0], CultureInfo.InvariantCulture);
var destinations = new Dictionary<string, DestinationConfig>(StringComparer.Ordinal)
{
    ["d1"] = new() { Address = "http://" + args[1] },
    ["d2"] = new() { Address = "http://" + args[2] },
};
RouteConfig[] routes = [new() { RouteId = "all", ClusterId = "backends", Match = new RouteMatch { Path = "/{**rest}" } }];
ClusterConfig[] clusters = [new() { ClusterId = "backends", LoadBalancingPolicy = "RoundRobin", Destinations = destinations }];

var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
builder.Logging.ClearProviders();
builder.WebHost.UseKestrel(k =>
{
    k.AddServerHeader = false;
    k.Listen(System.Net.IPAddress.Loopback, port, l => l.Protocols = HttpProtocols.Http1);
});
builder.Services.AddReverseProxy().LoadFromMemory(routes, clusters);
var app = builder.Build();
app.MapReverseProxy();
Console.WriteLine($"yarp: listening on http://127.0.0.1:{port}");
await app.RunAsync();
