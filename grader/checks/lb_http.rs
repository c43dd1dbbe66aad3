//! `lb_http`: the site answers through the load balancer's DNS name.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::http_get::{ok, probe, root};
use super::{Ctx, Kind, Verdict};
use crate::aws::AwsError;

/// An HTTP GET on the load balancer's DNS name answers the expected status and text.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LbHttp {
    pub load_balancer: String,
    #[serde(default = "root")]
    pub path: String,
    #[serde(default = "ok")]
    pub status: u16,
    #[serde(default)]
    pub body_contains: Option<String>,
}

impl Kind for LbHttp {
    const NAME: &'static str = "lb_http";
    const SUMMARY: &'static str = "An HTTP GET on the load balancer's DNS name answers the expected status and text, within a short timeout.";
    const ACTIONS: &'static [&'static str] = &["elasticloadbalancing:DescribeLoadBalancers"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let Some(lb) = ctx.aws.load_balancer(ctx.region, &self.load_balancer).await?.as_ref().clone() else {
            return Ok(Verdict::fail(format!("no load balancer `{}` in {}", self.load_balancer, ctx.region)).expected(format!("load balancer `{}`", self.load_balancer)).found("none"));
        };
        let url = format!("http://{}{}", lb.dns_name, self.path);
        Ok(match probe(&ctx.aws.http, &url, self.status, self.body_contains.as_deref()).await {
            Ok(()) => Verdict::pass(format!("{url} answered HTTP {}", self.status)),
            Err(v) => v,
        })
    }
}
