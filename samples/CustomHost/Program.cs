using System.Net;

// Proxy on Lb:ProxyPort (default 8080, every interface); admin API and /metrics on their own listener,
// Lb:AdminPort (default 9090, loopback only), never on the proxy port.
var builder = WebApplication.CreateBuilder(args);
builder.Services.AddLoadBalancer(builder.Configuration.GetSection("Lb")).AddAspNetCore();
builder.WebHost.ConfigureKestrel(kestrel =>
{
    // UseLoadBalancerProxy(): with Lb:FastPath=true, Lb's connection-level HTTP/1.1 proxy serves this listener.
    kestrel.Listen(IPAddress.Any, builder.Configuration.GetValue("Lb:ProxyPort", 8080), listen => listen.UseLoadBalancerProxy());
    kestrel.Listen(IPAddress.Loopback, builder.Configuration.GetValue("Lb:AdminPort", 9090), listen => listen.UseLoadBalancerAdmin());
});

var app = builder.Build();
app.UseLoadBalancerAdmin(); // requests on the admin listener: admin JSON API under /api, Prometheus metrics at /metrics
app.MapLoadBalancer();      // every other request is routed, balanced and forwarded
app.Run();
