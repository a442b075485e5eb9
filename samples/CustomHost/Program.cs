var builder = WebApplication.CreateBuilder(args);
builder.Services.AddLoadBalancer(builder.Configuration.GetSection("Lb")).AddAspNetCore();

var app = builder.Build();
app.MapLoadBalancerAdmin(); // admin JSON API under /api and Prometheus metrics at /metrics
app.MapLoadBalancer();      // every other request is routed, balanced and forwarded
app.Run();
