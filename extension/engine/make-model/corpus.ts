// The text that generated tokenizers learn their merges from: plain English and worked arithmetic in the
// shape of a chain of thought, with paragraphs separated by blank lines so that "\n\n" and ".\n\n"
// become tokens (the step boundaries that SEAL splits on).
export const TRAINING_CORPUS = `Let me think about this problem step by step. We need to find the number of apples that Maria has at the end of the day.

First, Maria starts with 12 apples. She gives 3 apples to her brother and 2 apples to her sister. So she has 12 - 3 - 2 = 7 apples left.

Then she buys 5 more apples at the market. Now she has 7 + 5 = 12 apples.

Wait, let me check that again. She started with 12, gave away 5, and bought 5. So the total is 12 apples. That matches.

Therefore, the answer is 12.

Let me solve the equation 3x + 7 = 22. Subtracting 7 from both sides gives 3x = 15. Dividing both sides by 3 gives x = 5.

Let me verify the answer. If x = 5, then 3 * 5 + 7 = 15 + 7 = 22. This is correct.

So the solution is x = 5.

The area of a rectangle is the length times the width. If the length is 8 and the width is 6, then the area is 8 * 6 = 48.

Hmm, but the question asks for the perimeter, not the area. The perimeter is 2 * (8 + 6) = 2 * 14 = 28.

So the perimeter of the rectangle is 28.

Alternatively, we can add the four sides one at a time: 8 + 6 + 8 + 6 = 28. Both methods give the same result.

Now consider the sum of the first 10 positive integers. The formula for the sum is n(n + 1) / 2. With n = 10, the sum is 10 * 11 / 2 = 55.

Let me double check by adding the numbers directly: 1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9 + 10 = 55. Yes, the sum is 55.

A train travels 120 miles in 2 hours. What is its average speed? The speed is the distance divided by the time, so the speed is 120 / 2 = 60 miles per hour.

But wait, the question says the train stops for 30 minutes in the middle of the trip. Does that change the answer? The total time is still 2 hours, because the stop is part of the trip. So the average speed is still 60 miles per hour.

Actually, let me reconsider. If the 2 hours do not include the stop, then the total time is 2.5 hours, and the average speed is 120 / 2.5 = 48 miles per hour.

I think the first reading is the intended one. The answer is 60 miles per hour.

To find the greatest common divisor of 48 and 36, we can use the Euclidean algorithm. First, 48 = 1 * 36 + 12. Then 36 = 3 * 12 + 0. So the greatest common divisor is 12.

The least common multiple is the product divided by the greatest common divisor: 48 * 36 / 12 = 144.

Let me check whether 91 is a prime number. We test the primes up to the square root of 91, which is about 9.5. The number 91 is not divisible by 2, 3 or 5. But 91 = 7 * 13, so 91 is not prime.

Next, we compute the probability of rolling a sum of 7 with two fair dice. There are 36 equally likely outcomes. The pairs that sum to 7 are (1, 6), (2, 5), (3, 4), (4, 3), (5, 2) and (6, 1). That is 6 outcomes, so the probability is 6 / 36 = 1 / 6.

Wait, I should make sure I did not miss any pairs. Each first die value from 1 to 6 has exactly one partner. So there are exactly 6 pairs, and the probability is 1 / 6.

The square of a binomial is (a + b)^2 = a^2 + 2ab + b^2. For example, (x + 3)^2 = x^2 + 6x + 9.

Let me expand (2x - 1)(x + 4). We multiply each term: 2x * x = 2x^2, 2x * 4 = 8x, -1 * x = -x and -1 * 4 = -4. Adding them gives 2x^2 + 7x - 4.

The quadratic x^2 - 5x + 6 = 0 factors as (x - 2)(x - 3) = 0. So the roots are x = 2 and x = 3.

Let me check the roots. For x = 2, we get 4 - 10 + 6 = 0. For x = 3, we get 9 - 15 + 6 = 0. Both roots are correct.

A store sells pencils at 3 for 1 dollar. How many pencils can you buy with 7 dollars? Each dollar buys 3 pencils, so 7 dollars buy 7 * 3 = 21 pencils.

If the price goes up by 50 percent, then each dollar buys only 2 pencils. Then 7 dollars buy 14 pencils.

The angles of a triangle add up to 180 degrees. If two angles are 50 and 60 degrees, the third angle is 180 - 50 - 60 = 70 degrees.

In a right triangle with legs 3 and 4, the hypotenuse is the square root of 3^2 + 4^2 = 9 + 16 = 25, which is 5.

Hmm, that is the classic 3-4-5 triangle. Similarly, a triangle with legs 5 and 12 has a hypotenuse of 13.

We want the remainder when 2^10 is divided by 7. Note that 2^3 = 8, which leaves a remainder of 1. So 2^9 = (2^3)^3 leaves a remainder of 1, and 2^10 leaves a remainder of 2.

Let me verify: 2^10 = 1024, and 1024 = 146 * 7 + 2. The remainder is 2.

The average of 4, 8, 15, 16, 23 and 42 is their sum divided by 6. The sum is 108, so the average is 18.

Alternatively, I could think about it in a different way. But the direct computation is simple enough, and it gives 18.

Suppose a recipe needs 2 cups of flour for every 3 cups of milk. How much flour do we need for 9 cups of milk? The ratio is 2 to 3, so we need 9 * 2 / 3 = 6 cups of flour.

The value of 15 percent of 80 is 0.15 * 80 = 12. The value of 80 percent of 15 is 0.8 * 15 = 12. They are the same, because multiplication is commutative.

In conclusion, we should always check our work. A careful answer is better than a fast answer.

Let me summarize the results. The apples problem gives 12. The equation gives x = 5. The perimeter is 28. The sum is 55. The speed is 60 miles per hour.

Step 1: 6 * 7 = 42

Step 2: 42 - 12 = 30

Step 3: 30 / 5 = 6

So x = 6

The final answer is 42.
`;
