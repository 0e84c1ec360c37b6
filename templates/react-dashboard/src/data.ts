// Sample data for the dashboard. Replace it with a fetch() to your own API.
export const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

export const revenue = [12.4, 13.1, 15.8, 14.9, 17.2, 19.6, 21.3, 20.8, 23.5, 25.1, 27.9, 31.2]; // $k
export const expenses = [9.8, 10.2, 11.0, 11.4, 12.1, 13.0, 13.8, 14.1, 14.9, 15.6, 16.8, 18.3]; // $k

export const signupsByChannel = {
  labels: ["Organic", "Referral", "Social", "Email", "Paid"],
  values: [420, 310, 260, 180, 140],
};

export const trafficSources = {
  labels: ["Desktop", "Mobile", "Tablet"],
  values: [54, 38, 8],
};

export const stats = [
  { label: "Revenue (year)", value: "$242.6k", change: "+18.4%" },
  { label: "Active users", value: "8,421", change: "+6.1%" },
  { label: "Sign-ups (month)", value: "1,310", change: "+12.9%" },
  { label: "Churn", value: "2.3%", change: "-0.4%" },
];
