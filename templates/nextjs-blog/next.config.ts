import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // The dev server is seen through E-Code's preview at its own host name
  // (for example my-blog--you.preview.example.com), so let that host load
  // Next's dev resources and hot reload. Narrow it to your preview domain
  // if you like, e.g. ["*.preview.example.com"].
  allowedDevOrigins: ["**.*"],
};

export default nextConfig;
